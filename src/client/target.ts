/**
 * Entities, producers and consumers accept a Channel or a Connection, like Kombu; a
 * connection means its default channel, looked up at each call so that a default channel
 * closed by an error is transparently replaced.
 */
import { Channel } from './channel.js'
import type { Connection } from './connection.js'

export type ChannelTarget = Channel | Connection

export const channelOf = (target: ChannelTarget): Channel =>
  target instanceof Channel ? target : target.defaultChannel

export const connectionOf = (target: ChannelTarget): Connection =>
  target instanceof Channel ? target.connection : target

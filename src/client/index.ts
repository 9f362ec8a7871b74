/** The public client API: Kombu's nouns with TypeScript's habits. */
import './lib-compat.js'
export { Connection } from './connection.js'
export type { ConnectionOptions, ConnectionStatus, ConnectionState, ConsumeOptions, Declarable } from './connection.js'
export { Channel } from './channel.js'
export type { ChannelState, Durability, ConsumeOptions as ChannelConsumeOptions, ConsumerHandler, ConsumerEnd, PublishArgs, RequestOptions } from './channel.js'
export { Exchange } from './exchange.js'
export type { ExchangeOptions, ExchangeJSON, BindOptions, PublishConfirm } from './exchange.js'
export { Queue } from './queue.js'
export type { QueueOptions, QueueJSON, QueueConsumeOptions, QueueDeclareResult } from './queue.js'
export type { QueueArgumentOptions, Overflow, QueueTypeName } from './queue-arguments.js'
export { Binding, binding } from './binding.js'
export type { BindingOptions, BindingJSON } from './binding.js'
export { Producer } from './producer.js'
export type { ProducerOptions, PublishOptions } from './producer.js'
export type { MessageOptions, DeliveryMode } from './publish.js'
export { Consumer } from './consumer.js'
export type { ConsumerOptions, ConsumerCallback } from './consumer.js'
export { Message } from './message.js'
export type { MessageState, DeliveryInfo } from './message.js'
export { ReturnedMessage } from './returned.js'
export { SimpleQueue, SimpleBuffer } from './simple.js'
export type { SimpleQueueOptions } from './simple.js'
export { reply, serve } from './rpc.js'
export type { RpcOptions, RpcHandler, ServeOptions } from './rpc.js'
export type { RetryPolicy } from './retry.js'
export {
  registerSerializer,
  unregisterSerializer,
  getSerializer,
  setDefaultSerializer,
  getDefaultSerializer,
} from './serialization.js'
export type { Serializer } from './serialization.js'
export { registerCompression, unregisterCompression, getCompression } from './compression.js'
export type { Compressor } from './compression.js'
export { registerTransport, unregisterTransport, parseUrl } from './transports.js'
export type { TransportFactory, ParsedUrl } from './transports.js'
export {
  WarrenError,
  ChannelError,
  ConnectionError,
  NotFoundError,
  AccessRefusedError,
  ResourceLockedError,
  PreconditionFailedError,
  ChannelClosedError,
  ContentTooLargeError,
  NoRouteError,
  NotImplementedError,
  NotSupportedError,
  CommandInvalidError,
  NotAllowedError,
  FrameError,
  ChannelStateError,
  InternalError,
  BrokerUnavailableError,
  ConnectionClosedError,
  TimeoutError,
  PublishNackError,
  ResourceLimitError,
  StorageUnavailableError,
  NotBoundError,
  MessageStateError,
  EmptyError,
  SerializationError,
  EncodeError,
  DecodeError,
  SerializerNotInstalledError,
  ContentDisallowedError,
  fromErrorData,
  isRecoverable,
} from './errors.js'
export type { WarrenErrorOptions } from './errors.js'
export { StorageAccess } from './storage-access.js'
export type { StorageEstimate, StorageManagerLike } from './storage-access.js'
export type { StorageState } from '../protocol/frames.js'

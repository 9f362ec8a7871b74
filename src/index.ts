/**
 * The `warren` entry: what a page needs to open a connection and publish and consume. An
 * explicit list (no `export *`), so that what is public is decided here. The rest lives
 * behind subpath exports, loaded only by the apps that use it:
 *
 * - `warren/simple`: SimpleQueue, SimpleBuffer (Kombu's `kombu.simple`)
 * - `warren/rpc`: serve, reply (request/reply; `conn.rpc()` loads it on first use)
 * - `warren/compression`: the compression registry (gzip and deflate load on first use)
 * - `warren/jobs`: durable job queues (JobQueue, JobWorker, …)
 * - `warren/worker`, `warren/console`, `warren/testing`, `warren/vite`
 *
 * `shared://` (the default) and `memory://` are built in (src/builtin-transports.ts); nothing
 * runs at import time.
 */
import './client/lib-compat.js'

export { Connection } from './client/connection.js'
export type { ConnectionOptions, ConnectionStatus, ConnectionState, ConsumeOptions, Declarable } from './client/connection.js'
export { Channel } from './client/channel.js'
export type { ChannelState, Durability, ConsumeOptions as ChannelConsumeOptions, ConsumerHandler, ConsumerEnd, PublishArgs, RequestOptions } from './client/channel.js'
export { Exchange } from './client/exchange.js'
export type { ExchangeOptions, ExchangeJSON, BindOptions, PublishConfirm } from './client/exchange.js'
export { Queue } from './client/queue.js'
export type { QueueOptions, QueueJSON, QueueConsumeOptions, QueueDeclareResult } from './client/queue.js'
export type { QueueArgumentOptions, Overflow, QueueTypeName } from './client/queue-arguments.js'
export { Binding, binding } from './client/binding.js'
export type { BindingOptions, BindingJSON } from './client/binding.js'
export { Producer } from './client/producer.js'
export type { ProducerOptions, PublishOptions } from './client/producer.js'
export type { MessageOptions, DeliveryMode } from './client/publish.js'
export { Consumer } from './client/consumer.js'
export type { ConsumerOptions, ConsumerCallback } from './client/consumer.js'
export { Message } from './client/message.js'
export type { MessageState, DeliveryInfo } from './client/message.js'
export { ReturnedMessage } from './client/returned.js'
export type { RpcOptions, RpcHandler, ServeOptions, ReplyOptions } from './client/rpc.js'
export type { RetryPolicy } from './client/retry.js'
export {
  registerSerializer,
  unregisterSerializer,
  getSerializer,
  setDefaultSerializer,
  getDefaultSerializer,
} from './client/serialization.js'
export type { Serializer } from './client/serialization.js'
export { registerTransport, unregisterTransport, parseUrl } from './client/transports.js'
export type { TransportFactory, ParsedUrl } from './client/transports.js'
// Every error class (users test them with instanceof), fromErrorData, isRecoverable.
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
} from './client/errors.js'
export type { WarrenErrorOptions } from './client/errors.js'
export { StorageAccess } from './client/storage-access.js'
export type { StorageEstimate, StorageManagerLike } from './client/storage-access.js'
export type { StorageState } from './protocol/frames.js'
export { useSharedWorker, type SharedWorkerFactory } from './transport/shared.js'
export { PROTOCOL_VERSION } from './protocol/version.js'
export { useElectedHost, type BrokerHost, type Elector } from './transport/elect.js'

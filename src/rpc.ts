/**
 * `warren/rpc`: request/reply as plain functions of a connection. `conn.rpc()`, `conn.serve()`
 * and `conn.reply()` do the same and load this code on first use.
 */
export { serve, reply } from './client/rpc.js'
export type { RpcOptions, RpcHandler, ServeOptions, ReplyOptions } from './client/rpc.js'

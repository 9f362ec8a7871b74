import { preconditionFailed } from './errors.js'
import type { QueueDeclaration } from './queue-type.js'

/**
 * What quorum and stream queues share at declare: durable, never exclusive, auto-delete or
 * server-named, and none of the other types' arguments (RabbitMQ: "invalid arg … of queue type").
 */
export function requireDurableOnly(declaration: QueueDeclaration, type: 'quorum' | 'stream', refused: readonly string[]): void {
  const where = `for queue '${declaration.name}'`
  if (!declaration.durable) throw preconditionFailed(`invalid property 'non-durable' ${where}: ${type} queues are durable`)
  if (declaration.owner !== undefined) throw preconditionFailed(`invalid property 'exclusive-owner' ${where}: ${type} queues cannot be exclusive`)
  if (declaration.autoDelete) throw preconditionFailed(`invalid property 'auto-delete' ${where}: ${type} queues cannot be auto-delete`)
  if (declaration.serverNamed) throw preconditionFailed(`${type} queues cannot have a server-generated name`)
  for (const key of refused)
    if (declaration.args[key] !== undefined) throw preconditionFailed(`invalid arg '${key}' ${where} of queue type ${type}`)
}

export interface RabbitmqInfo {
  nodename: string
  amqpPort: number
  /** ws://127.0.0.1:<port>/ws (Web-STOMP). */
  stompUrl: string
  /** http://127.0.0.1:<port> (management HTTP API; guest/guest). */
  managementUrl: string
  ctlEnv: Record<string, string>
}
export interface RabbitmqControl {
  ctl(...args: string[]): Promise<{ stdout: string; stderr: string }>
  stopApp(): Promise<unknown>
  startApp(): Promise<void>
}
export declare const rabbitmqInstalled: () => boolean
export declare function startRabbitmq(options?: { log?: (line: string) => void }): Promise<RabbitmqInfo & RabbitmqControl & { info: RabbitmqInfo; stop(): Promise<void> }>
export declare function control(info: RabbitmqInfo): RabbitmqControl

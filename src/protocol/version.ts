/** Bumped on every incompatible change of the frames below; part of channel and worker names. */
export const PROTOCOL_VERSION = 4

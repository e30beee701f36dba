/**
 * Typed errors. Each says what was expected and what was found, so that a user can act on it
 * without reading tfjs internals.
 */
export class SpikeTrackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A checkpoint or weight file is malformed, hostile, or does not fit the model. */
export class CheckpointError extends SpikeTrackError {
  /** Keys the model expects but the checkpoint lacks. */
  readonly missing: string[];
  /** Keys the checkpoint has but the model does not. */
  readonly unexpected: string[];
  /** Keys whose shapes differ: `key: expected [..], got [..]`. */
  readonly mismatched: string[];
  constructor(
    message: string,
    details?: { missing?: string[]; unexpected?: string[]; mismatched?: string[] },
  ) {
    super(message);
    this.missing = details?.missing ?? [];
    this.unexpected = details?.unexpected ?? [];
    this.mismatched = details?.mismatched ?? [];
  }
}

/** A tensor has the wrong rank or shape for the module or function it was given to. */
export class ShapeError extends SpikeTrackError {}

/** An option or configuration value is invalid. */
export class ConfigError extends SpikeTrackError {}

/** A tfjs backend could not be set up. */
export class BackendError extends SpikeTrackError {}

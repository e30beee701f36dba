/**
 * Option parsing shared by the CLI commands: each helper reads one `--name` from the parsed
 * values and throws a {@link UsageError} (exit code 2) that names the option and the bad value.
 */
import { type CliValues, UsageError } from './command';

/** The string value of a required `--name`. */
export function requireString(values: CliValues, name: string, hint = ''): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} is required${hint}`);
  return v;
}

/** The string value of an optional `--name`, or null when absent. */
export function optionalString(values: CliValues, name: string): string | null {
  const v = values[name];
  if (v === undefined) return null;
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} needs a value`);
  return v;
}

/** Bounds of {@link intOption} and {@link numberOption} (inclusive). */
export interface OptionRange {
  min?: number;
  max?: number;
}

function describeRange(kind: string, min: number, max: number): string {
  if (Number.isFinite(max)) return `${kind} in ${min}..${max}`;
  return `${kind} ≥ ${min}`;
}

/** An integer `--name` (decimal digits, optionally signed) in `[min, max]` (default min 1), or `fallback`. */
export function intOption(
  values: CliValues,
  name: string,
  fallback: number,
  { min = 1, max = Number.POSITIVE_INFINITY }: OptionRange = {},
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const s = String(raw).trim();
  const v = Number(s);
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be ${describeRange('an integer', min, max)}, got '${String(raw)}'`);
  }
  return v;
}

/** A finite number `--name` in `[min, max]`, or `fallback`. */
export function numberOption(
  values: CliValues,
  name: string,
  fallback: number,
  { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY }: OptionRange = {},
): number {
  const raw = optionalString(values, name);
  if (raw === null) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be ${describeRange('a number', min, max)}, got '${raw}'`);
  }
  return v;
}

/** A positive finite number `--name`, or `fallback`. */
export function positiveNumberOption(values: CliValues, name: string, fallback: number): number {
  const raw = optionalString(values, name);
  if (raw === null) return fallback;
  const v = Number(raw);
  if (!(v > 0) || !Number.isFinite(v))
    throw new UsageError(`--${name} must be a positive number, got '${raw}'`);
  return v;
}

/** `--name`'s value, one of `allowed` (give the option a default in its parse config). */
export function oneOf<T extends string>(values: CliValues, name: string, allowed: readonly T[]): T {
  const v = String(values[name]);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got '${v}'`);
  }
  return v as T;
}

/**
 * Exact uint64 seeds through a loader that gives 64-bit integers as numbers.
 *
 * `PROTO_LOADER_OPTIONS.longs` is `Number`: right for every other 64-bit field
 * (sizes, counts, times, tensor shapes), but a `JobSpec.seed` at or above 2^53
 * would arrive rounded. For the messages that carry a `JobSpec`, a decoded
 * seed above `Number.MAX_SAFE_INTEGER` (it can only be one rounded up) is
 * replaced by its exact decimal string, read by decoding the same bytes again
 * with `longs: String`; every other message, and every smaller seed, decodes
 * once and as before. A seed is therefore a number below 2^53 and a decimal
 * string above (common/seed.ts), on the server and on clients alike.
 */
import type * as protoLoader from '@grpc/proto-loader';

interface SpecLike {
  seed?: unknown;
}
type Message = Record<string, unknown>;

/** The `JobSpec`s inside each message type that carries one. */
const SPECS_OF: Record<string, (m: Message) => (SpecLike | null | undefined)[]> = {
  'propeller.v1.SubmitRequest': (m) => [m.spec as SpecLike],
  'propeller.v1.Job': (m) => [m.spec as SpecLike],
  'propeller.v1.JobEvent': (m) => [(m.job as Message | null | undefined)?.spec as SpecLike],
  'propeller.v1.ListJobsResponse': (m) => ((m.jobs as Message[] | undefined) ?? []).map((j) => j.spec as SpecLike),
};

/**
 * Wraps, in `definition` (loaded with `longs: Number`), the deserializers of
 * the seed-carrying messages and of the methods taking or returning them, so
 * that large seeds come out exact; `exact` is the same protos loaded with
 * `longs: String`.
 */
export function withExactSeeds(definition: protoLoader.PackageDefinition, exact: protoLoader.PackageDefinition): void {
  const wrapped = new Map<string, (buf: Buffer) => unknown>();
  for (const [name, specsOf] of Object.entries(SPECS_OF)) {
    const fast = definition[name] as protoLoader.MessageTypeDefinition<unknown, unknown> | undefined;
    const slow = exact[name] as protoLoader.MessageTypeDefinition<unknown, unknown> | undefined;
    if (!fast || !slow) continue;
    const decode = fast.deserialize;
    const decodeExact = slow.deserialize;
    const deserialize = (buf: Buffer): Message => {
      const m = decode(buf) as Message;
      const specs = specsOf(m);
      if (!specs.some((s) => typeof s?.seed === 'number' && s.seed > Number.MAX_SAFE_INTEGER)) return m;
      const exactSpecs = specsOf(decodeExact(buf) as Message);
      specs.forEach((s, i) => {
        if (s && typeof s.seed === 'number' && s.seed > Number.MAX_SAFE_INTEGER) s.seed = exactSpecs[i]?.seed;
      });
      return m;
    };
    fast.deserialize = deserialize;
    wrapped.set(name, deserialize as (buf: Buffer) => unknown);
  }
  for (const [serviceName, service] of Object.entries(definition)) {
    if ('format' in service) continue; // a message or enum type, not a service
    // Every message a Propeller service takes or returns is in the service's own package.
    const pkg = serviceName.slice(0, serviceName.lastIndexOf('.'));
    for (const method of Object.values(service as protoLoader.ServiceDefinition)) {
      const request = wrapped.get(`${pkg}.${(method.requestType.type as { name?: string }).name}`);
      const response = wrapped.get(`${pkg}.${(method.responseType.type as { name?: string }).name}`);
      if (request) (method as { requestDeserialize: unknown }).requestDeserialize = request;
      if (response) (method as { responseDeserialize: unknown }).responseDeserialize = response;
    }
  }
}

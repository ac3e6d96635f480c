import onnxProto from 'onnx-proto';

/**
 * A small, deterministic ONNX graph builder on top of `onnx-proto`.
 *
 * The reference models are written node by node in TypeScript; this class
 * keeps the bookkeeping (unique names, value infos, initializers as
 * little-endian `raw_data`) in one place, and `toModel()` serialises a
 * ModelProto whose bytes depend only on the calls made, never on the clock
 * or the host, so the model cache can compare builds byte for byte.
 */

const { onnx } = onnxProto;
type TensorDataType = onnxProto.onnx.TensorProto.DataType;
const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;

/** Element types the builder can declare. */
export type DType = 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'bool' | 'uint8';

/** A dimension: a fixed size, or a symbolic name such as `'B'` for a dynamic axis. */
export type Dim = number | string;

/**
 * Attribute values. Integral numbers become INT, other numbers FLOAT;
 * `{ float: 1 }` / `{ floats: [...] }` force FLOAT(S) for integral values.
 */
export type AttrValue =
  | number
  | string
  | readonly number[]
  | readonly string[]
  | { readonly float: number }
  | { readonly floats: readonly number[] };

/** Data accepted for initializers. */
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** Options for `GraphBuilder.toModel`. */
export interface ModelOptions {
  /** Default-domain opset version (17 unless told). */
  opset?: number;
  /** IR version (8 unless told; the one onnx-proto 8 describes). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

/** Thrown on misuse of the builder: duplicate or unknown names, shape/data mismatch. */
export class GraphBuildError extends Error {
  override name = 'GraphBuildError';
}

const DTYPE_CODE: Record<DType, TensorDataType> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  float64: DataType.DOUBLE,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
  uint8: DataType.UINT8,
};

/** Builds one ONNX graph; values are referred to by their (unique) names. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** Declares a graph input and returns its value name. */
  input(name: string, dtype: DType, dims: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /**
   * Declares `value` as a graph output named `name`; when the names differ
   * an Identity node provides the public name.
   */
  output(value: string, name: string, dtype: DType, dims: readonly Dim[]): string {
    this.require(value);
    let out = value;
    if (name !== value) out = this.op('Identity', [value], {}, { output: name });
    this.outputs.push(valueInfo(out, dtype, dims));
    return out;
  }

  /**
   * Adds an initializer holding `data` with shape `dims` (little-endian raw_data).
   * The element type follows the array type (Uint8Array is stored as `bool`
   * when `asBool` is set, else uint8).
   */
  constant(name: string, data: TensorData, dims: readonly number[], asBool = false): string {
    this.claim(name);
    const size = dims.reduce((p, d) => p * d, 1);
    if (size !== data.length) {
      throw new GraphBuildError(`constant ${name}: ${data.length} values for dims [${dims.join(',')}]`);
    }
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: DTYPE_CODE[arrayDType(data, asBool)],
      rawData: littleEndianBytes(data),
    });
    return name;
  }

  /** Float32 initializer from any numeric array (values rounded to float32). */
  floats(name: string, values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.constant(name, Float32Array.from(values), dims);
  }

  /** Int64 initializer, the usual type for shapes, axes and indices. */
  int64s(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(name, BigInt64Array.from(values.map((v) => BigInt(v))), dims);
  }

  /** Adds a single-output node and returns its output's name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, opts: { output?: string; name?: string } = {}): string {
    const [out] = this.opMulti(opType, inputs, 1, attrs, { ...opts, outputs: opts.output === undefined ? undefined : [opts.output] });
    return out!;
  }

  /** Adds a node with `outputCount` outputs (Split, TopK, ...) and returns their names. */
  opMulti(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attrs: Record<string, AttrValue> = {},
    opts: { outputs?: readonly string[]; name?: string } = {},
  ): string[] {
    // '' marks an omitted optional input (ONNX convention).
    for (const i of inputs) if (i !== '') this.require(i);
    const id = this.counter++;
    const nodeName = opts.name ?? `${opType}_${id}`;
    const outputs = opts.outputs ? [...opts.outputs] : Array.from({ length: outputCount }, (_, k) => `${nodeName}_out${k}`);
    if (outputs.length !== outputCount) throw new GraphBuildError(`${nodeName}: ${outputs.length} output names for ${outputCount} outputs`);
    for (const o of outputs) this.claim(o);
    this.nodes.push({
      opType,
      name: nodeName,
      input: [...inputs],
      output: outputs,
      // Sorted so that the serialised bytes never depend on object key order.
      attribute: Object.keys(attrs)
        .sort()
        .map((k) => attribute(k, attrs[k]!)),
    });
    return outputs;
  }

  /** Serialises the graph as a ModelProto (default domain only). */
  toModel(options: ModelOptions = {}): Uint8Array {
    if (this.outputs.length === 0) throw new GraphBuildError(`graph ${this.name} has no outputs`);
    const model: onnxProto.onnx.IModelProto = {
      irVersion: options.irVersion ?? 8,
      opsetImport: [{ domain: '', version: options.opset ?? 17 }],
      producerName: options.producerName ?? 'propeller',
      producerVersion: options.producerVersion ?? '0.1.0',
      docString: options.docString ?? '',
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): void {
    if (name === '') throw new GraphBuildError('empty value name');
    if (this.names.has(name)) throw new GraphBuildError(`duplicate value name ${name}`);
    this.names.add(name);
  }

  private require(name: string): void {
    if (!this.names.has(name)) throw new GraphBuildError(`unknown value ${name}`);
  }
}

function valueInfo(name: string, dtype: DType, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DTYPE_CODE[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: AttributeType.INT, i: v } : { name, type: AttributeType.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) {
      return { name, type: AttributeType.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    }
    const nums = v as number[];
    return nums.every((x) => Number.isInteger(x))
      ? { name, type: AttributeType.INTS, ints: nums }
      : { name, type: AttributeType.FLOATS, floats: nums };
  }
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: [...v.floats] };
  throw new GraphBuildError(`attribute ${name}: unsupported value`);
}

function arrayDType(data: TensorData, asBool: boolean): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return asBool ? 'bool' : 'uint8';
}

/** ONNX raw_data is little-endian whatever the host; write through a DataView. */
function littleEndianBytes(data: TensorData): Uint8Array {
  if (data instanceof Uint8Array) return Uint8Array.from(data);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
  else if (data instanceof Float64Array) for (let i = 0; i < data.length; i++) view.setFloat64(8 * i, data[i]!, true);
  else if (data instanceof Int32Array) for (let i = 0; i < data.length; i++) view.setInt32(4 * i, data[i]!, true);
  else for (let i = 0; i < data.length; i++) view.setBigInt64(8 * i, data[i]!, true);
  return out;
}

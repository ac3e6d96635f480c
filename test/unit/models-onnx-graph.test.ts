import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { GraphBuildError, GraphBuilder } from '../../models/onnx-graph.ts';

const { onnx } = onnxProto;
type Tensor = onnxProto.onnx.TensorProto;

function affine(): GraphBuilder {
  const g = new GraphBuilder('affine');
  const x = g.input('x', 'float32', ['B', 3]);
  const w = g.constant('w', Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]);
  const y = g.op('Add', [g.op('MatMul', [x, w]), g.floats('b', [0.5, -0.5])]);
  const z = g.op('ReduceSum', [y, g.int64s('axes', [1])], { keepdims: 0 });
  g.output(y, 'y', 'float32', ['B', 2]);
  g.output(z, 'z', 'float32', ['B']);
  return g;
}

describe('onnx-graph - GraphBuilder', () => {
  it('serialises a ModelProto with IR 8, opset 17 and little-endian raw initializers', () => {
    const model = onnx.ModelProto.decode(affine().toModel());
    assert.equal(Number(model.irVersion), 8);
    assert.deepEqual(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
    const graph = model.graph as onnxProto.onnx.GraphProto;
    const w = graph.initializer.find((t) => t.name === 'w') as Tensor;
    assert.equal(w.dataType, onnx.TensorProto.DataType.FLOAT);
    assert.deepEqual(w.dims.map(Number), [3, 2]);
    assert.equal(w.floatData.length, 0);
    const view = new DataView(w.rawData.buffer, w.rawData.byteOffset, w.rawData.byteLength);
    assert.deepEqual(Array.from({ length: 6 }, (_, i) => view.getFloat32(4 * i, true)), [1, 2, 3, 4, 5, 6]);
    const axes = graph.initializer.find((t) => t.name === 'axes') as Tensor;
    assert.equal(axes.dataType, onnx.TensorProto.DataType.INT64);
    const dims = graph.input[0]!.type!.tensorType!.shape!.dim ?? [];
    assert.deepEqual(dims.map((d) => d.dimParam || Number(d.dimValue)), ['B', 3]);
  });

  it('produces identical bytes for identical calls', () => {
    assert.deepEqual(affine().toModel(), affine().toModel());
  });

  it('runs in ONNX Runtime with a dynamic batch', async () => {
    const session = await ort.InferenceSession.create(affine().toModel(), { intraOpNumThreads: 1 });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 0, 0, 0, 1, 1), [2, 3]) });
    assert.deepEqual(Array.from(out['y']!.data as Float32Array), [1.5, 1.5, 8.5, 9.5]);
    assert.deepEqual(Array.from(out['z']!.data as Float32Array), [3, 18]);
    await session.release();
  });

  it('rejects duplicate and unknown names and mismatched data', () => {
    const g = new GraphBuilder('bad');
    g.input('x', 'float32', [1]);
    assert.throws(() => g.input('x', 'float32', [1]), GraphBuildError);
    assert.throws(() => g.op('Relu', ['nope']), GraphBuildError);
    assert.throws(() => g.constant('c', new Float32Array(3), [2, 2]), GraphBuildError);
    assert.throws(() => g.toModel(), GraphBuildError);
  });
});

import type { VaeManifest } from '../../common/manifest.ts';
import { GraphBuilder } from '../onnx-graph.ts';
import { DECODER_BIAS, DECODER_MATRIX, ENCODER_EPSILON, encoderMatrix } from './colour-map.ts';

/**
 * ONNX graphs of the field VAE pair (one latent frame per batch item):
 *   field-decoder: latent [B,4,h,w] -> rgb [B,3,4h,4w] in [0,1]
 *                  1x1 Conv + Sigmoid (colour map, `colour-map.ts`), mean-preserving
 *                  bilinear 4x upsampling, Clip.
 *   field-encoder: rgb [B,3,H,W] -> latent [B,4,H/4,W/4]
 *                  4x4 AveragePool, clamp, logit, 1x1 Conv (right inverse of the linear part).
 * The (non-linear) colour map is applied on the latent grid, before the
 * upsampling: the upsampling preserves 4x4 block means, so the encoder's
 * average pool recovers the colours exactly and the logit inverts them.
 */

/** Pixels per latent element along height and width. */
export const FIELD_VAE_SCALE = 4;
const LATENT_CHANNELS = 4;

/** Serialised ModelProto of the field decoder (opset 17, dynamic B, h, w). */
export function buildFieldDecoderModel(): Uint8Array {
  const g = new GraphBuilder('field_decoder');
  const latent = g.input('latent', 'float32', ['B', LATENT_CHANNELS, 'h', 'w']);
  const weight = g.floats('colour_matrix', DECODER_MATRIX.flat(), [3, LATENT_CHANNELS, 1, 1]);
  const bias = g.floats('colour_bias', DECODER_BIAS, [3]);
  const colour = g.op('Sigmoid', [g.op('Conv', [latent, weight, bias], { kernel_shape: [1, 1] })]);
  // Mean-preserving bilinear upsampling: bilinear (half_pixel: each latent
  // element is the centre of its 4x4 block; edges clamp) plus a per-block
  // constant that restores each block's average to the latent's colour. The
  // correction is small for smooth latents, and it makes the 4x4
  // average-pool encoder an exact left inverse (up to clipping).
  const scales = g.floats('scales', [1, 1, FIELD_VAE_SCALE, FIELD_VAE_SCALE]);
  const bilinear = g.op('Resize', [colour, '', scales], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  const blockMean = g.op('AveragePool', [bilinear], {
    kernel_shape: [FIELD_VAE_SCALE, FIELD_VAE_SCALE],
    strides: [FIELD_VAE_SCALE, FIELD_VAE_SCALE],
  });
  const correction = g.op('Resize', [g.op('Sub', [colour, blockMean]), '', scales], {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
  const up = g.op('Add', [bilinear, correction]);
  const rgb = g.op('Clip', [up, g.floats('lo', [0], []), g.floats('hi', [1], [])]);
  g.output(rgb, 'rgb', 'float32', ['B', 3, 'H', 'W']);
  return g.toModel({ opset: 17, docString: 'Propeller field-decoder: logistic colour map + mean-preserving bilinear 4x upsampling' });
}

/** Serialised ModelProto of the field encoder (opset 17, dynamic B, H, W; H and W multiples of 4). */
export function buildFieldEncoderModel(): Uint8Array {
  const g = new GraphBuilder('field_encoder');
  const rgb = g.input('rgb', 'float32', ['B', 3, 'H', 'W']);
  const pooled = g.op('AveragePool', [rgb], {
    kernel_shape: [FIELD_VAE_SCALE, FIELD_VAE_SCALE],
    strides: [FIELD_VAE_SCALE, FIELD_VAE_SCALE],
  });
  // logit(p) = log(p / (1 - p)), p clamped so black and white stay finite.
  const p = g.op('Clip', [pooled, g.floats('eps', [ENCODER_EPSILON], []), g.floats('one_minus_eps', [1 - ENCODER_EPSILON], [])]);
  const logits = g.op('Log', [g.op('Div', [p, g.op('Sub', [g.floats('one', [1], []), p])])]);
  const E = encoderMatrix();
  // z = E (u - b) = E u - E b.
  const bias = E.map((row) => -row.reduce((s, v, r) => s + v * DECODER_BIAS[r]!, 0));
  const weight = g.floats('inverse_colour_matrix', E.flat(), [LATENT_CHANNELS, 3, 1, 1]);
  const latent = g.op('Conv', [logits, weight, g.floats('inverse_colour_bias', bias, [LATENT_CHANNELS])], { kernel_shape: [1, 1] });
  g.output(latent, 'latent', 'float32', ['B', LATENT_CHANNELS, 'h', 'w']);
  return g.toModel({ opset: 17, docString: 'Propeller field-encoder: 4x4 average pool + logit + right inverse of the colour map' });
}

/** Manifest of the field decoder. */
export function fieldDecoderManifest(): VaeManifest {
  return {
    kind: 'decoder',
    name: 'field-decoder',
    description: 'Latent frame -> RGB: fixed 4->3 logistic colour map (linear into logits, then sigmoid) and mean-preserving bilinear 4x upsampling, clipped to [0, 1].',
    file: 'model.onnx',
    latentChannels: LATENT_CHANNELS,
    spatialScale: FIELD_VAE_SCALE,
    input: 'latent',
    output: 'rgb',
    maxBatch: 64,
  };
}

/** Manifest of the field encoder. */
export function fieldEncoderManifest(): VaeManifest {
  return {
    kind: 'encoder',
    name: 'field-encoder',
    description: 'RGB -> latent frame: 4x4 average pool, logit, and the right inverse of the colour map whose hue channels sum to zero.',
    file: 'model.onnx',
    latentChannels: LATENT_CHANNELS,
    spatialScale: FIELD_VAE_SCALE,
    input: 'rgb',
    output: 'latent',
    maxBatch: 64,
  };
}

import type { VaeManifest } from '../../common/manifest.ts';
import { GraphBuilder } from '../onnx-graph.ts';
import { DECODER_BIAS, DECODER_MATRIX, encoderMatrix } from './colour-map.ts';

/**
 * ONNX graphs of the field VAE pair (one latent frame per batch item):
 *   field-decoder: latent [B,4,h,w] -> rgb [B,3,4h,4w] in [0,1]
 *                  1x1 Conv (colour map), mean-preserving bilinear 4x upsampling, Clip.
 *   field-encoder: rgb [B,3,H,W] -> latent [B,4,H/4,W/4]
 *                  4x4 AveragePool, 1x1 Conv (pseudo-inverse colour map).
 * The colour map comes first in the decoder because it commutes with the
 * (linear) resize and costs 16x less on the small grid.
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
  const colour = g.op('Conv', [latent, weight, bias], { kernel_shape: [1, 1] });
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
  return g.toModel({ opset: 17, docString: 'Propeller field-decoder: colour map + mean-preserving bilinear 4x upsampling' });
}

/** Serialised ModelProto of the field encoder (opset 17, dynamic B, H, W; H and W multiples of 4). */
export function buildFieldEncoderModel(): Uint8Array {
  const g = new GraphBuilder('field_encoder');
  const rgb = g.input('rgb', 'float32', ['B', 3, 'H', 'W']);
  const pooled = g.op('AveragePool', [rgb], {
    kernel_shape: [FIELD_VAE_SCALE, FIELD_VAE_SCALE],
    strides: [FIELD_VAE_SCALE, FIELD_VAE_SCALE],
  });
  const E = encoderMatrix();
  // z = E (rgb - b) = E rgb - E b.
  const bias = E.map((row) => -row.reduce((s, v, r) => s + v * DECODER_BIAS[r]!, 0));
  const weight = g.floats('inverse_colour_matrix', E.flat(), [LATENT_CHANNELS, 3, 1, 1]);
  const latent = g.op('Conv', [pooled, weight, g.floats('inverse_colour_bias', bias, [LATENT_CHANNELS])], { kernel_shape: [1, 1] });
  g.output(latent, 'latent', 'float32', ['B', LATENT_CHANNELS, 'h', 'w']);
  return g.toModel({ opset: 17, docString: 'Propeller field-encoder: 4x4 average pool + least-squares inverse colour map' });
}

/** Manifest of the field decoder. */
export function fieldDecoderManifest(): VaeManifest {
  return {
    kind: 'decoder',
    name: 'field-decoder',
    description: 'Latent frame -> RGB: fixed 4->3 colour map and mean-preserving bilinear 4x upsampling, clipped to [0, 1].',
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
    description: 'RGB -> latent frame: 4x4 average pool and the minimum-norm least-squares inverse of the colour map.',
    file: 'model.onnx',
    latentChannels: LATENT_CHANNELS,
    spatialScale: FIELD_VAE_SCALE,
    input: 'rgb',
    output: 'latent',
    maxBatch: 64,
  };
}

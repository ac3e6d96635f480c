// Original file: proto/propeller/v1/denoiser.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DecodeRequest as _propeller_v1_DecodeRequest, DecodeRequest__Output as _propeller_v1_DecodeRequest__Output } from '../../propeller/v1/DecodeRequest';
import type { DecodeResponse as _propeller_v1_DecodeResponse, DecodeResponse__Output as _propeller_v1_DecodeResponse__Output } from '../../propeller/v1/DecodeResponse';
import type { EncodeRequest as _propeller_v1_EncodeRequest, EncodeRequest__Output as _propeller_v1_EncodeRequest__Output } from '../../propeller/v1/EncodeRequest';
import type { EncodeResponse as _propeller_v1_EncodeResponse, EncodeResponse__Output as _propeller_v1_EncodeResponse__Output } from '../../propeller/v1/EncodeResponse';
import type { EvaluateRequest as _propeller_v1_EvaluateRequest, EvaluateRequest__Output as _propeller_v1_EvaluateRequest__Output } from '../../propeller/v1/EvaluateRequest';
import type { EvaluateResponse as _propeller_v1_EvaluateResponse, EvaluateResponse__Output as _propeller_v1_EvaluateResponse__Output } from '../../propeller/v1/EvaluateResponse';
import type { InfoRequest as _propeller_v1_InfoRequest, InfoRequest__Output as _propeller_v1_InfoRequest__Output } from '../../propeller/v1/InfoRequest';
import type { InfoResponse as _propeller_v1_InfoResponse, InfoResponse__Output as _propeller_v1_InfoResponse__Output } from '../../propeller/v1/InfoResponse';

/**
 * Served by every worker: model evaluations on its accelerator.
 */
export interface DenoiserServiceClient extends grpc.Client {
  /**
   * Latent frames -> RGB frames through the model's VAE decoder.
   */
  Decode(argument: _propeller_v1_DecodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  Decode(argument: _propeller_v1_DecodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  Decode(argument: _propeller_v1_DecodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  Decode(argument: _propeller_v1_DecodeRequest, callback: grpc.requestCallback<_propeller_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Latent frames -> RGB frames through the model's VAE decoder.
   */
  decode(argument: _propeller_v1_DecodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  decode(argument: _propeller_v1_DecodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  decode(argument: _propeller_v1_DecodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  decode(argument: _propeller_v1_DecodeRequest, callback: grpc.requestCallback<_propeller_v1_DecodeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * RGB frames -> latent frames through the model's VAE encoder.
   */
  Encode(argument: _propeller_v1_EncodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  Encode(argument: _propeller_v1_EncodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  Encode(argument: _propeller_v1_EncodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  Encode(argument: _propeller_v1_EncodeRequest, callback: grpc.requestCallback<_propeller_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * RGB frames -> latent frames through the model's VAE encoder.
   */
  encode(argument: _propeller_v1_EncodeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  encode(argument: _propeller_v1_EncodeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  encode(argument: _propeller_v1_EncodeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  encode(argument: _propeller_v1_EncodeRequest, callback: grpc.requestCallback<_propeller_v1_EncodeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Denoiser evaluations: one model output per item. Same-shape items run
   * as one batch.
   */
  Evaluate(argument: _propeller_v1_EvaluateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_EvaluateResponse__Output>): grpc.ClientUnaryCall;
  Evaluate(argument: _propeller_v1_EvaluateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_EvaluateResponse__Output>): grpc.ClientUnaryCall;
  Evaluate(argument: _propeller_v1_EvaluateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_EvaluateResponse__Output>): grpc.ClientUnaryCall;
  Evaluate(argument: _propeller_v1_EvaluateRequest, callback: grpc.requestCallback<_propeller_v1_EvaluateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Denoiser evaluations: one model output per item. Same-shape items run
   * as one batch.
   */
  evaluate(argument: _propeller_v1_EvaluateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_EvaluateResponse__Output>): grpc.ClientUnaryCall;
  evaluate(argument: _propeller_v1_EvaluateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_EvaluateResponse__Output>): grpc.ClientUnaryCall;
  evaluate(argument: _propeller_v1_EvaluateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_EvaluateResponse__Output>): grpc.ClientUnaryCall;
  evaluate(argument: _propeller_v1_EvaluateRequest, callback: grpc.requestCallback<_propeller_v1_EvaluateResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Models loaded, device, batch limits.
   */
  Info(argument: _propeller_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _propeller_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _propeller_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _propeller_v1_InfoRequest, callback: grpc.requestCallback<_propeller_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Models loaded, device, batch limits.
   */
  info(argument: _propeller_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _propeller_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _propeller_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _propeller_v1_InfoRequest, callback: grpc.requestCallback<_propeller_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Served by every worker: model evaluations on its accelerator.
 */
export interface DenoiserServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Latent frames -> RGB frames through the model's VAE decoder.
   */
  Decode: grpc.handleUnaryCall<_propeller_v1_DecodeRequest__Output, _propeller_v1_DecodeResponse>;
  
  /**
   * RGB frames -> latent frames through the model's VAE encoder.
   */
  Encode: grpc.handleUnaryCall<_propeller_v1_EncodeRequest__Output, _propeller_v1_EncodeResponse>;
  
  /**
   * Denoiser evaluations: one model output per item. Same-shape items run
   * as one batch.
   */
  Evaluate: grpc.handleUnaryCall<_propeller_v1_EvaluateRequest__Output, _propeller_v1_EvaluateResponse>;
  
  /**
   * Models loaded, device, batch limits.
   */
  Info: grpc.handleUnaryCall<_propeller_v1_InfoRequest__Output, _propeller_v1_InfoResponse>;
  
}

export interface DenoiserServiceDefinition extends grpc.ServiceDefinition {
  Decode: MethodDefinition<_propeller_v1_DecodeRequest, _propeller_v1_DecodeResponse, _propeller_v1_DecodeRequest__Output, _propeller_v1_DecodeResponse__Output>
  Encode: MethodDefinition<_propeller_v1_EncodeRequest, _propeller_v1_EncodeResponse, _propeller_v1_EncodeRequest__Output, _propeller_v1_EncodeResponse__Output>
  Evaluate: MethodDefinition<_propeller_v1_EvaluateRequest, _propeller_v1_EvaluateResponse, _propeller_v1_EvaluateRequest__Output, _propeller_v1_EvaluateResponse__Output>
  Info: MethodDefinition<_propeller_v1_InfoRequest, _propeller_v1_InfoResponse, _propeller_v1_InfoRequest__Output, _propeller_v1_InfoResponse__Output>
}

import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { DecodeRequest as _propeller_v1_DecodeRequest, DecodeRequest__Output as _propeller_v1_DecodeRequest__Output } from './propeller/v1/DecodeRequest';
import type { DecodeResponse as _propeller_v1_DecodeResponse, DecodeResponse__Output as _propeller_v1_DecodeResponse__Output } from './propeller/v1/DecodeResponse';
import type { DenoiserServiceClient as _propeller_v1_DenoiserServiceClient, DenoiserServiceDefinition as _propeller_v1_DenoiserServiceDefinition } from './propeller/v1/DenoiserService';
import type { EncodeRequest as _propeller_v1_EncodeRequest, EncodeRequest__Output as _propeller_v1_EncodeRequest__Output } from './propeller/v1/EncodeRequest';
import type { EncodeResponse as _propeller_v1_EncodeResponse, EncodeResponse__Output as _propeller_v1_EncodeResponse__Output } from './propeller/v1/EncodeResponse';
import type { EvaluateItem as _propeller_v1_EvaluateItem, EvaluateItem__Output as _propeller_v1_EvaluateItem__Output } from './propeller/v1/EvaluateItem';
import type { EvaluateRequest as _propeller_v1_EvaluateRequest, EvaluateRequest__Output as _propeller_v1_EvaluateRequest__Output } from './propeller/v1/EvaluateRequest';
import type { EvaluateResponse as _propeller_v1_EvaluateResponse, EvaluateResponse__Output as _propeller_v1_EvaluateResponse__Output } from './propeller/v1/EvaluateResponse';
import type { InfoRequest as _propeller_v1_InfoRequest, InfoRequest__Output as _propeller_v1_InfoRequest__Output } from './propeller/v1/InfoRequest';
import type { InfoResponse as _propeller_v1_InfoResponse, InfoResponse__Output as _propeller_v1_InfoResponse__Output } from './propeller/v1/InfoResponse';
import type { ModelInfo as _propeller_v1_ModelInfo, ModelInfo__Output as _propeller_v1_ModelInfo__Output } from './propeller/v1/ModelInfo';
import type { PromptMix as _propeller_v1_PromptMix, PromptMix__Output as _propeller_v1_PromptMix__Output } from './propeller/v1/PromptMix';
import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from './propeller/v1/Tensor';
import type { WeightedPrompt as _propeller_v1_WeightedPrompt, WeightedPrompt__Output as _propeller_v1_WeightedPrompt__Output } from './propeller/v1/WeightedPrompt';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  propeller: {
    v1: {
      DecodeRequest: MessageTypeDefinition<_propeller_v1_DecodeRequest, _propeller_v1_DecodeRequest__Output>
      DecodeResponse: MessageTypeDefinition<_propeller_v1_DecodeResponse, _propeller_v1_DecodeResponse__Output>
      /**
       * Served by every worker: model evaluations on its accelerator.
       */
      DenoiserService: SubtypeConstructor<typeof grpc.Client, _propeller_v1_DenoiserServiceClient> & { service: _propeller_v1_DenoiserServiceDefinition }
      EncodeRequest: MessageTypeDefinition<_propeller_v1_EncodeRequest, _propeller_v1_EncodeRequest__Output>
      EncodeResponse: MessageTypeDefinition<_propeller_v1_EncodeResponse, _propeller_v1_EncodeResponse__Output>
      EvaluateItem: MessageTypeDefinition<_propeller_v1_EvaluateItem, _propeller_v1_EvaluateItem__Output>
      EvaluateRequest: MessageTypeDefinition<_propeller_v1_EvaluateRequest, _propeller_v1_EvaluateRequest__Output>
      EvaluateResponse: MessageTypeDefinition<_propeller_v1_EvaluateResponse, _propeller_v1_EvaluateResponse__Output>
      InfoRequest: MessageTypeDefinition<_propeller_v1_InfoRequest, _propeller_v1_InfoRequest__Output>
      InfoResponse: MessageTypeDefinition<_propeller_v1_InfoResponse, _propeller_v1_InfoResponse__Output>
      ModelInfo: MessageTypeDefinition<_propeller_v1_ModelInfo, _propeller_v1_ModelInfo__Output>
      ModelKind: EnumTypeDefinition
      OutputDtype: EnumTypeDefinition
      PromptMix: MessageTypeDefinition<_propeller_v1_PromptMix, _propeller_v1_PromptMix__Output>
      Tensor: MessageTypeDefinition<_propeller_v1_Tensor, _propeller_v1_Tensor__Output>
      WeightedPrompt: MessageTypeDefinition<_propeller_v1_WeightedPrompt, _propeller_v1_WeightedPrompt__Output>
    }
  }
}


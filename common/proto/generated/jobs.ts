import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CancelJobRequest as _propeller_v1_CancelJobRequest, CancelJobRequest__Output as _propeller_v1_CancelJobRequest__Output } from './propeller/v1/CancelJobRequest';
import type { DownloadChunk as _propeller_v1_DownloadChunk, DownloadChunk__Output as _propeller_v1_DownloadChunk__Output } from './propeller/v1/DownloadChunk';
import type { DownloadRequest as _propeller_v1_DownloadRequest, DownloadRequest__Output as _propeller_v1_DownloadRequest__Output } from './propeller/v1/DownloadRequest';
import type { GetJobRequest as _propeller_v1_GetJobRequest, GetJobRequest__Output as _propeller_v1_GetJobRequest__Output } from './propeller/v1/GetJobRequest';
import type { InputMedia as _propeller_v1_InputMedia, InputMedia__Output as _propeller_v1_InputMedia__Output } from './propeller/v1/InputMedia';
import type { Job as _propeller_v1_Job, Job__Output as _propeller_v1_Job__Output } from './propeller/v1/Job';
import type { JobEvent as _propeller_v1_JobEvent, JobEvent__Output as _propeller_v1_JobEvent__Output } from './propeller/v1/JobEvent';
import type { JobPreview as _propeller_v1_JobPreview, JobPreview__Output as _propeller_v1_JobPreview__Output } from './propeller/v1/JobPreview';
import type { JobProgress as _propeller_v1_JobProgress, JobProgress__Output as _propeller_v1_JobProgress__Output } from './propeller/v1/JobProgress';
import type { JobServiceClient as _propeller_v1_JobServiceClient, JobServiceDefinition as _propeller_v1_JobServiceDefinition } from './propeller/v1/JobService';
import type { JobSpec as _propeller_v1_JobSpec, JobSpec__Output as _propeller_v1_JobSpec__Output } from './propeller/v1/JobSpec';
import type { LayoutSpec as _propeller_v1_LayoutSpec, LayoutSpec__Output as _propeller_v1_LayoutSpec__Output } from './propeller/v1/LayoutSpec';
import type { ListJobsRequest as _propeller_v1_ListJobsRequest, ListJobsRequest__Output as _propeller_v1_ListJobsRequest__Output } from './propeller/v1/ListJobsRequest';
import type { ListJobsResponse as _propeller_v1_ListJobsResponse, ListJobsResponse__Output as _propeller_v1_ListJobsResponse__Output } from './propeller/v1/ListJobsResponse';
import type { ListModelsRequest as _propeller_v1_ListModelsRequest, ListModelsRequest__Output as _propeller_v1_ListModelsRequest__Output } from './propeller/v1/ListModelsRequest';
import type { ListModelsResponse as _propeller_v1_ListModelsResponse, ListModelsResponse__Output as _propeller_v1_ListModelsResponse__Output } from './propeller/v1/ListModelsResponse';
import type { ListWorkersRequest as _propeller_v1_ListWorkersRequest, ListWorkersRequest__Output as _propeller_v1_ListWorkersRequest__Output } from './propeller/v1/ListWorkersRequest';
import type { ListWorkersResponse as _propeller_v1_ListWorkersResponse, ListWorkersResponse__Output as _propeller_v1_ListWorkersResponse__Output } from './propeller/v1/ListWorkersResponse';
import type { ModelStatus as _propeller_v1_ModelStatus, ModelStatus__Output as _propeller_v1_ModelStatus__Output } from './propeller/v1/ModelStatus';
import type { OutputSpec as _propeller_v1_OutputSpec, OutputSpec__Output as _propeller_v1_OutputSpec__Output } from './propeller/v1/OutputSpec';
import type { PreviewSpec as _propeller_v1_PreviewSpec, PreviewSpec__Output as _propeller_v1_PreviewSpec__Output } from './propeller/v1/PreviewSpec';
import type { PromptSegment as _propeller_v1_PromptSegment, PromptSegment__Output as _propeller_v1_PromptSegment__Output } from './propeller/v1/PromptSegment';
import type { SamplerSpec as _propeller_v1_SamplerSpec, SamplerSpec__Output as _propeller_v1_SamplerSpec__Output } from './propeller/v1/SamplerSpec';
import type { SubmitRequest as _propeller_v1_SubmitRequest, SubmitRequest__Output as _propeller_v1_SubmitRequest__Output } from './propeller/v1/SubmitRequest';
import type { Tensor as _propeller_v1_Tensor, Tensor__Output as _propeller_v1_Tensor__Output } from './propeller/v1/Tensor';
import type { WatchJobRequest as _propeller_v1_WatchJobRequest, WatchJobRequest__Output as _propeller_v1_WatchJobRequest__Output } from './propeller/v1/WatchJobRequest';
import type { WorkerStatus as _propeller_v1_WorkerStatus, WorkerStatus__Output as _propeller_v1_WorkerStatus__Output } from './propeller/v1/WorkerStatus';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  propeller: {
    v1: {
      CancelJobRequest: MessageTypeDefinition<_propeller_v1_CancelJobRequest, _propeller_v1_CancelJobRequest__Output>
      DownloadChunk: MessageTypeDefinition<_propeller_v1_DownloadChunk, _propeller_v1_DownloadChunk__Output>
      DownloadRequest: MessageTypeDefinition<_propeller_v1_DownloadRequest, _propeller_v1_DownloadRequest__Output>
      GetJobRequest: MessageTypeDefinition<_propeller_v1_GetJobRequest, _propeller_v1_GetJobRequest__Output>
      InputMedia: MessageTypeDefinition<_propeller_v1_InputMedia, _propeller_v1_InputMedia__Output>
      Job: MessageTypeDefinition<_propeller_v1_Job, _propeller_v1_Job__Output>
      JobEvent: MessageTypeDefinition<_propeller_v1_JobEvent, _propeller_v1_JobEvent__Output>
      JobPreview: MessageTypeDefinition<_propeller_v1_JobPreview, _propeller_v1_JobPreview__Output>
      JobProgress: MessageTypeDefinition<_propeller_v1_JobProgress, _propeller_v1_JobProgress__Output>
      /**
       * Served by the coordinator: the user-facing job API.
       */
      JobService: SubtypeConstructor<typeof grpc.Client, _propeller_v1_JobServiceClient> & { service: _propeller_v1_JobServiceDefinition }
      JobSpec: MessageTypeDefinition<_propeller_v1_JobSpec, _propeller_v1_JobSpec__Output>
      JobState: EnumTypeDefinition
      LayoutSpec: MessageTypeDefinition<_propeller_v1_LayoutSpec, _propeller_v1_LayoutSpec__Output>
      ListJobsRequest: MessageTypeDefinition<_propeller_v1_ListJobsRequest, _propeller_v1_ListJobsRequest__Output>
      ListJobsResponse: MessageTypeDefinition<_propeller_v1_ListJobsResponse, _propeller_v1_ListJobsResponse__Output>
      ListModelsRequest: MessageTypeDefinition<_propeller_v1_ListModelsRequest, _propeller_v1_ListModelsRequest__Output>
      ListModelsResponse: MessageTypeDefinition<_propeller_v1_ListModelsResponse, _propeller_v1_ListModelsResponse__Output>
      ListWorkersRequest: MessageTypeDefinition<_propeller_v1_ListWorkersRequest, _propeller_v1_ListWorkersRequest__Output>
      ListWorkersResponse: MessageTypeDefinition<_propeller_v1_ListWorkersResponse, _propeller_v1_ListWorkersResponse__Output>
      ModelStatus: MessageTypeDefinition<_propeller_v1_ModelStatus, _propeller_v1_ModelStatus__Output>
      OutputSpec: MessageTypeDefinition<_propeller_v1_OutputSpec, _propeller_v1_OutputSpec__Output>
      PreviewSpec: MessageTypeDefinition<_propeller_v1_PreviewSpec, _propeller_v1_PreviewSpec__Output>
      PromptSegment: MessageTypeDefinition<_propeller_v1_PromptSegment, _propeller_v1_PromptSegment__Output>
      SamplerSpec: MessageTypeDefinition<_propeller_v1_SamplerSpec, _propeller_v1_SamplerSpec__Output>
      SubmitRequest: MessageTypeDefinition<_propeller_v1_SubmitRequest, _propeller_v1_SubmitRequest__Output>
      Tensor: MessageTypeDefinition<_propeller_v1_Tensor, _propeller_v1_Tensor__Output>
      WatchJobRequest: MessageTypeDefinition<_propeller_v1_WatchJobRequest, _propeller_v1_WatchJobRequest__Output>
      WorkerStatus: MessageTypeDefinition<_propeller_v1_WorkerStatus, _propeller_v1_WorkerStatus__Output>
    }
  }
}


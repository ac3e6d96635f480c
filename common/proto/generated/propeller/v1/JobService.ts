// Original file: proto/propeller/v1/jobs.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CancelJobRequest as _propeller_v1_CancelJobRequest, CancelJobRequest__Output as _propeller_v1_CancelJobRequest__Output } from '../../propeller/v1/CancelJobRequest';
import type { DownloadChunk as _propeller_v1_DownloadChunk, DownloadChunk__Output as _propeller_v1_DownloadChunk__Output } from '../../propeller/v1/DownloadChunk';
import type { DownloadRequest as _propeller_v1_DownloadRequest, DownloadRequest__Output as _propeller_v1_DownloadRequest__Output } from '../../propeller/v1/DownloadRequest';
import type { GetJobRequest as _propeller_v1_GetJobRequest, GetJobRequest__Output as _propeller_v1_GetJobRequest__Output } from '../../propeller/v1/GetJobRequest';
import type { Job as _propeller_v1_Job, Job__Output as _propeller_v1_Job__Output } from '../../propeller/v1/Job';
import type { JobEvent as _propeller_v1_JobEvent, JobEvent__Output as _propeller_v1_JobEvent__Output } from '../../propeller/v1/JobEvent';
import type { ListJobsRequest as _propeller_v1_ListJobsRequest, ListJobsRequest__Output as _propeller_v1_ListJobsRequest__Output } from '../../propeller/v1/ListJobsRequest';
import type { ListJobsResponse as _propeller_v1_ListJobsResponse, ListJobsResponse__Output as _propeller_v1_ListJobsResponse__Output } from '../../propeller/v1/ListJobsResponse';
import type { ListModelsRequest as _propeller_v1_ListModelsRequest, ListModelsRequest__Output as _propeller_v1_ListModelsRequest__Output } from '../../propeller/v1/ListModelsRequest';
import type { ListModelsResponse as _propeller_v1_ListModelsResponse, ListModelsResponse__Output as _propeller_v1_ListModelsResponse__Output } from '../../propeller/v1/ListModelsResponse';
import type { ListWorkersRequest as _propeller_v1_ListWorkersRequest, ListWorkersRequest__Output as _propeller_v1_ListWorkersRequest__Output } from '../../propeller/v1/ListWorkersRequest';
import type { ListWorkersResponse as _propeller_v1_ListWorkersResponse, ListWorkersResponse__Output as _propeller_v1_ListWorkersResponse__Output } from '../../propeller/v1/ListWorkersResponse';
import type { SubmitRequest as _propeller_v1_SubmitRequest, SubmitRequest__Output as _propeller_v1_SubmitRequest__Output } from '../../propeller/v1/SubmitRequest';
import type { WatchJobRequest as _propeller_v1_WatchJobRequest, WatchJobRequest__Output as _propeller_v1_WatchJobRequest__Output } from '../../propeller/v1/WatchJobRequest';

/**
 * Served by the coordinator: the user-facing job API.
 */
export interface JobServiceClient extends grpc.Client {
  Cancel(argument: _propeller_v1_CancelJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  Cancel(argument: _propeller_v1_CancelJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  Cancel(argument: _propeller_v1_CancelJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  Cancel(argument: _propeller_v1_CancelJobRequest, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  cancel(argument: _propeller_v1_CancelJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  cancel(argument: _propeller_v1_CancelJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  cancel(argument: _propeller_v1_CancelJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  cancel(argument: _propeller_v1_CancelJobRequest, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  
  /**
   * The job's output in 1 MiB chunks.
   */
  Download(argument: _propeller_v1_DownloadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_propeller_v1_DownloadChunk__Output>;
  Download(argument: _propeller_v1_DownloadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_propeller_v1_DownloadChunk__Output>;
  /**
   * The job's output in 1 MiB chunks.
   */
  download(argument: _propeller_v1_DownloadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_propeller_v1_DownloadChunk__Output>;
  download(argument: _propeller_v1_DownloadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_propeller_v1_DownloadChunk__Output>;
  
  Get(argument: _propeller_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  Get(argument: _propeller_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  Get(argument: _propeller_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  Get(argument: _propeller_v1_GetJobRequest, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  get(argument: _propeller_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  get(argument: _propeller_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  get(argument: _propeller_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  get(argument: _propeller_v1_GetJobRequest, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  
  List(argument: _propeller_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _propeller_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _propeller_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _propeller_v1_ListJobsRequest, callback: grpc.requestCallback<_propeller_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _propeller_v1_ListJobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _propeller_v1_ListJobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _propeller_v1_ListJobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _propeller_v1_ListJobsRequest, callback: grpc.requestCallback<_propeller_v1_ListJobsResponse__Output>): grpc.ClientUnaryCall;
  
  ListModels(argument: _propeller_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _propeller_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _propeller_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _propeller_v1_ListModelsRequest, callback: grpc.requestCallback<_propeller_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _propeller_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _propeller_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _propeller_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _propeller_v1_ListModelsRequest, callback: grpc.requestCallback<_propeller_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  
  ListWorkers(argument: _propeller_v1_ListWorkersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  ListWorkers(argument: _propeller_v1_ListWorkersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  ListWorkers(argument: _propeller_v1_ListWorkersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  ListWorkers(argument: _propeller_v1_ListWorkersRequest, callback: grpc.requestCallback<_propeller_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _propeller_v1_ListWorkersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _propeller_v1_ListWorkersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _propeller_v1_ListWorkersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  listWorkers(argument: _propeller_v1_ListWorkersRequest, callback: grpc.requestCallback<_propeller_v1_ListWorkersResponse__Output>): grpc.ClientUnaryCall;
  
  Submit(argument: _propeller_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  Submit(argument: _propeller_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  Submit(argument: _propeller_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  Submit(argument: _propeller_v1_SubmitRequest, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  submit(argument: _propeller_v1_SubmitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  submit(argument: _propeller_v1_SubmitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  submit(argument: _propeller_v1_SubmitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  submit(argument: _propeller_v1_SubmitRequest, callback: grpc.requestCallback<_propeller_v1_Job__Output>): grpc.ClientUnaryCall;
  
  /**
   * Current state first, then every change until the job ends.
   */
  Watch(argument: _propeller_v1_WatchJobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_propeller_v1_JobEvent__Output>;
  Watch(argument: _propeller_v1_WatchJobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_propeller_v1_JobEvent__Output>;
  /**
   * Current state first, then every change until the job ends.
   */
  watch(argument: _propeller_v1_WatchJobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_propeller_v1_JobEvent__Output>;
  watch(argument: _propeller_v1_WatchJobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_propeller_v1_JobEvent__Output>;
  
}

/**
 * Served by the coordinator: the user-facing job API.
 */
export interface JobServiceHandlers extends grpc.UntypedServiceImplementation {
  Cancel: grpc.handleUnaryCall<_propeller_v1_CancelJobRequest__Output, _propeller_v1_Job>;
  
  /**
   * The job's output in 1 MiB chunks.
   */
  Download: grpc.handleServerStreamingCall<_propeller_v1_DownloadRequest__Output, _propeller_v1_DownloadChunk>;
  
  Get: grpc.handleUnaryCall<_propeller_v1_GetJobRequest__Output, _propeller_v1_Job>;
  
  List: grpc.handleUnaryCall<_propeller_v1_ListJobsRequest__Output, _propeller_v1_ListJobsResponse>;
  
  ListModels: grpc.handleUnaryCall<_propeller_v1_ListModelsRequest__Output, _propeller_v1_ListModelsResponse>;
  
  ListWorkers: grpc.handleUnaryCall<_propeller_v1_ListWorkersRequest__Output, _propeller_v1_ListWorkersResponse>;
  
  Submit: grpc.handleUnaryCall<_propeller_v1_SubmitRequest__Output, _propeller_v1_Job>;
  
  /**
   * Current state first, then every change until the job ends.
   */
  Watch: grpc.handleServerStreamingCall<_propeller_v1_WatchJobRequest__Output, _propeller_v1_JobEvent>;
  
}

export interface JobServiceDefinition extends grpc.ServiceDefinition {
  Cancel: MethodDefinition<_propeller_v1_CancelJobRequest, _propeller_v1_Job, _propeller_v1_CancelJobRequest__Output, _propeller_v1_Job__Output>
  Download: MethodDefinition<_propeller_v1_DownloadRequest, _propeller_v1_DownloadChunk, _propeller_v1_DownloadRequest__Output, _propeller_v1_DownloadChunk__Output>
  Get: MethodDefinition<_propeller_v1_GetJobRequest, _propeller_v1_Job, _propeller_v1_GetJobRequest__Output, _propeller_v1_Job__Output>
  List: MethodDefinition<_propeller_v1_ListJobsRequest, _propeller_v1_ListJobsResponse, _propeller_v1_ListJobsRequest__Output, _propeller_v1_ListJobsResponse__Output>
  ListModels: MethodDefinition<_propeller_v1_ListModelsRequest, _propeller_v1_ListModelsResponse, _propeller_v1_ListModelsRequest__Output, _propeller_v1_ListModelsResponse__Output>
  ListWorkers: MethodDefinition<_propeller_v1_ListWorkersRequest, _propeller_v1_ListWorkersResponse, _propeller_v1_ListWorkersRequest__Output, _propeller_v1_ListWorkersResponse__Output>
  Submit: MethodDefinition<_propeller_v1_SubmitRequest, _propeller_v1_Job, _propeller_v1_SubmitRequest__Output, _propeller_v1_Job__Output>
  Watch: MethodDefinition<_propeller_v1_WatchJobRequest, _propeller_v1_JobEvent, _propeller_v1_WatchJobRequest__Output, _propeller_v1_JobEvent__Output>
}

// The OpenAPI document FastAPI would generate for this service under rest_model_service.
// Differences, on purpose: no 422 responses (the service answers validation errors with
// 400, as rest_model_service's exception handler does) and no "/" redirect to /docs.
import { MODEL_NAME, inputSchema, outputSchema, type JsonObject } from './model.ts';

export const SERVICE_TITLE = 'Insurance Charges Model Service';
export const SERVICE_VERSION = '0.1.0';
export const MODEL_DISPLAY_NAME = 'Insurance Charges Model';
export const MODEL_DESCRIPTION = 'Model to predict the insurance charges of a customer (gradient-boosted trees trained on synthetic data).';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonObject, description = 'Successful Response') => ({
  description,
  content: { 'application/json': { schema } },
});
const str = (title: string, description: string) => ({ title, description, type: 'string' });

/** pydantic nests enums under "definitions"; OpenAPI keeps every schema in components. */
function toComponents(schema: JsonObject): Record<string, JsonObject> {
  const { definitions, ...rest } = JSON.parse(JSON.stringify(schema).replaceAll('"#/definitions/', '"#/components/schemas/')) as JsonObject;
  return { [rest.title as string]: rest, ...(definitions as Record<string, JsonObject> | undefined) };
}

const modelMetadataProperties = {
  display_name: str('Display Name', 'The display name of the model.'),
  qualified_name: str('Qualified Name', 'The qualified name of the model.'),
  description: str('Description', 'The description of the model.'),
  version: str('Version', 'The version of the model.'),
};

export function buildOpenApi(): JsonObject {
  const input = inputSchema.title as string;
  const output = outputSchema.title as string;
  return {
    openapi: '3.0.2',
    info: { title: SERVICE_TITLE, description: 'Example model service bundled with loadgate.', version: SERVICE_VERSION },
    paths: {
      '/api/health': {
        get: {
          summary: 'Health Status',
          description: 'Indicates whether the service is healthy.',
          operationId: 'health_status_api_health_get',
          responses: { '200': json(ref('HealthStatusResponse')) },
        },
      },
      '/api/health/ready': {
        get: {
          summary: 'Readiness Status',
          description: 'Indicates whether the service is ready to accept traffic (the model is loaded).',
          operationId: 'readiness_status_api_health_ready_get',
          responses: {
            '200': json(ref('ReadinessStatusResponse')),
            '503': json(ref('ReadinessStatusResponse'), 'Service Unavailable'),
          },
        },
      },
      '/api/models': {
        get: {
          summary: 'Get Models',
          description: 'List of models available.',
          operationId: 'get_models_api_models_get',
          responses: { '200': json(ref('ModelMetadataCollection')), '500': json(ref('Error'), 'Internal Server Error') },
        },
      },
      [`/api/models/${MODEL_NAME}/metadata`]: {
        get: {
          summary: 'Get Model Metadata',
          description: 'Metadata and input/output schemas of the model.',
          operationId: `get_metadata_api_models_${MODEL_NAME}_metadata_get`,
          responses: { '200': json(ref('ModelDetails')), '500': json(ref('Error'), 'Internal Server Error') },
        },
      },
      [`/api/models/${MODEL_NAME}/prediction`]: {
        post: {
          summary: 'Prediction',
          description: MODEL_DESCRIPTION,
          operationId: `prediction_api_models_${MODEL_NAME}_prediction_post`,
          requestBody: { content: { 'application/json': { schema: ref(input) } }, required: true },
          responses: {
            '200': json(ref(output)),
            '400': json(ref('Error'), 'Bad Request'),
            '500': json(ref('Error'), 'Internal Server Error'),
            '503': json(ref('Error'), 'Service Unavailable'),
          },
        },
      },
    },
    components: {
      schemas: {
        Error: {
          title: 'Error',
          description: 'Error.',
          type: 'object',
          properties: {
            type: str('Type', 'The type of error.'),
            messages: { title: 'Messages', description: 'List of error messages.', type: 'array', items: { type: 'string' } },
          },
          required: ['type', 'messages'],
        },
        HealthStatusResponse: {
          title: 'HealthStatusResponse',
          type: 'object',
          properties: { health_status: { title: 'Health Status', enum: ['HEALTHY'], type: 'string' } },
          required: ['health_status'],
        },
        ReadinessStatusResponse: {
          title: 'ReadinessStatusResponse',
          type: 'object',
          properties: { readiness_status: { title: 'Readiness Status', enum: ['ACCEPTING_TRAFFIC', 'NOT_READY'], type: 'string' } },
          required: ['readiness_status'],
        },
        ModelMetadata: {
          title: 'ModelMetadata',
          description: 'Metadata of a model.',
          type: 'object',
          properties: modelMetadataProperties,
          required: Object.keys(modelMetadataProperties),
        },
        ModelMetadataCollection: {
          title: 'ModelMetadataCollection',
          description: 'Collection of model metadata.',
          type: 'object',
          properties: {
            models: { title: 'Models', description: 'A collection of model description.', type: 'array', items: ref('ModelMetadata') },
          },
          required: ['models'],
        },
        ModelDetails: {
          title: 'ModelDetails',
          description: 'Metadata and schemas of a model.',
          type: 'object',
          properties: {
            ...modelMetadataProperties,
            input_schema: { title: 'Input Schema', description: 'JSON schema of the model input.', type: 'object' },
            output_schema: { title: 'Output Schema', description: 'JSON schema of the model output.', type: 'object' },
          },
          required: [...Object.keys(modelMetadataProperties), 'input_schema', 'output_schema'],
        },
        ...toComponents(inputSchema),
        ...toComponents(outputSchema),
      },
    },
  };
}

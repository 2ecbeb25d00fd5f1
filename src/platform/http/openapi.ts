// The OpenAPI 3.1 document, generated from the routes' zod schemas, and the interactive
// reference at /docs served from swagger-ui's assets in node_modules (works offline).
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export interface OpenApiOptions {
  publicUrl: string;
  version: string;
  docsEnabled: boolean;
}

export async function registerOpenApi(app: FastifyInstance, { publicUrl, version, docsEnabled }: OpenApiOptions) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tandem API',
        version,
        description:
          'Team collaboration backend. Every response uses the envelope `{ success, data | error, code, requestId }`; ' +
          'authenticate with `Authorization: Bearer <access token>` from `POST /api/v1/auth/login`.',
      },
      servers: [{ url: publicUrl }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      tags: [
        { name: 'auth', description: 'Registration, sign-in, tokens, sessions, e-mail verification and password reset' },
        { name: 'users', description: 'People on this Tandem instance' },
        { name: 'admin', description: 'Instance administration (global admin role)' },
        { name: 'health', description: 'Liveness and readiness probes' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { auth: 'none' } }, async () => app.swagger());
  if (docsEnabled) {
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { url: '/api/v1/openapi.json', persistAuthorization: true, displayRequestDuration: true },
      staticCSP: true,
      // swagger-ui's default policy upgrades requests to https, which breaks a plain-HTTP install.
      transformStaticCSP: (header: string) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
    });
  }
}

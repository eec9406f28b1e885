import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthenticatedRequest } from '../current-principal.decorator';
import { ApiKeyAuthService } from './api-key-auth.service';

/** The key from `Authorization: Bearer <key>`, else `x-api-key` (`''` for another scheme alone: no key). */
export function presentedApiKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  const bearer = typeof authorization === 'string' ? /^\s*Bearer\s+(.+)$/i.exec(authorization)?.[1].trim() : undefined;
  if (bearer) return bearer;
  // Another scheme (`Basic ...`, a bare key) names no key of ours: `x-api-key` may, as Anthropic's clients send it.
  const apiKey = headers['x-api-key'];
  const value = (Array.isArray(apiKey) ? apiKey[0] : apiKey)?.trim();
  if (value) return value;
  return typeof authorization === 'string' && authorization !== '' ? '' : value;
}

/**
 * Gateway routes: authenticates the API key (or MASTER_KEY) and attaches the
 * principal as `req.principal`. 401 `invalid_api_key` otherwise.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly auth: ApiKeyAuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest & { headers: IncomingHttpHeaders }>();
    req.principal = await this.auth.authenticate(presentedApiKey(req.headers));
    return true;
  }
}

/** Who is calling: the bearer key of a request, checked against the stored keys. */
import { roleAllows, type ApiKeys, type Principal } from '../auth/api-keys.js';
import { Face3dError } from '../core/errors.js';
import type { ApiKeyRole } from '../store/enums.js';

export type Caller = { readonly principal: Principal } | { readonly principal: null; readonly problem: string };

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Never throws: a bad or missing key only matters to the fields that need a role. */
export async function identifyCaller(authorization: string | undefined, keys: ApiKeys): Promise<Caller> {
  if (!authorization) return { principal: null, problem: 'an API key is required: send "Authorization: Bearer <key>"' };
  const key = BEARER.exec(authorization)?.[1];
  if (!key) return { principal: null, problem: 'the Authorization header must be "Bearer <key>"' };
  const principal = await keys.authenticate(key);
  return principal ? { principal } : { principal: null, problem: 'the API key is not valid (unknown or revoked)' };
}

/** UNAUTHENTICATED without a valid key, FORBIDDEN when its role is below `needed`. */
export function requireRole(caller: Caller, needed: ApiKeyRole): Principal {
  if (!caller.principal) throw new Face3dError('UNAUTHENTICATED', caller.problem);
  if (!roleAllows(caller.principal.role, needed)) {
    throw new Face3dError('FORBIDDEN', `this needs a key with role ${needed} or above; this key's role is ${caller.principal.role}`);
  }
  return caller.principal;
}

/**
 * Bearer-token authentication: JWTs signed with a shared secret (HS256) or a key pair (RS256,
 * ES256), verified with jose. Without a secret or a key the API is open. Tokens must expire (`exp`)
 * unless the runtime explicitly allows tokens without one.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';

export interface AuthOptions {
  /** Shared secret for HS256 tokens. */
  jwtSecret?: string;
  /** PEM public key (SPKI) for RS256 (RSA) or ES256 (EC P-256) tokens. */
  publicKeyPem?: string;
  /** Accept tokens without an `exp` claim (they never expire); refused by default. */
  allowTokensWithoutExpiry?: boolean;
}

export class AuthError extends Error {}

export type Verifier = (authorization: string | undefined) => Promise<JWTPayload>;

/** A verifier for the configured keys, or null when authentication is off. */
export function makeVerifier(options: AuthOptions | undefined): Verifier | null {
  const secret = options?.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : null;
  let publicKey: KeyObject | null = null;
  let publicAlg: string | null = null;
  if (options?.publicKeyPem) {
    publicKey = createPublicKey(options.publicKeyPem);
    const type = publicKey.asymmetricKeyType;
    if (type === 'rsa') publicAlg = 'RS256';
    else if (type === 'ec') publicAlg = 'ES256';
    else throw new Error(`auth.publicKeyPem: unsupported key type "${type}" (use an RSA or EC P-256 key)`);
  }
  if (!secret && !publicKey) return null;
  const algorithms = [...(secret ? ['HS256'] : []), ...(publicAlg ? [publicAlg] : [])];

  return async (authorization) => {
    if (!authorization) throw new AuthError('this API needs an "Authorization: Bearer <token>" header');
    const m = /^\s*bearer\s+(.+?)\s*$/i.exec(authorization);
    if (!m) throw new AuthError('the Authorization header must use the Bearer scheme');
    const token = m[1].replace(/^"(.*)"$/, '$1');
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          if (header.alg === 'HS256' && secret) return secret;
          if (header.alg === publicAlg && publicKey) return publicKey;
          throw new AuthError(`tokens signed with "${header.alg}" are not accepted (accepted: ${algorithms.join(', ')})`);
        },
        { algorithms, requiredClaims: options?.allowTokensWithoutExpiry ? [] : ['exp'] },
      );
      return payload;
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new AuthError('the token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'exp') {
        throw new AuthError('the token has no expiry ("exp" claim): such a token, once leaked, works for ever; give it one, or start the runtime with --allow-tokens-without-expiry');
      }
      if (err instanceof joseErrors.JOSEError) throw new AuthError(`the token is not valid: ${err.message}`);
      throw new AuthError('the token is not valid');
    }
  };
}

/** The user a token names, for execution log entries. */
export function userFromPayload(payload: JWTPayload): string | undefined {
  const p = payload as Record<string, unknown>;
  for (const k of ['email', 'sub', 'user_id']) if (typeof p[k] === 'string') return p[k] as string;
  return undefined;
}

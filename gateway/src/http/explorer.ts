import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../common/project-root';
import { signToken } from '../auth';
import type { GatewayConfig } from '../config';
import { tokenPolicy } from '../token-config';
import { ApiError } from '../../../common/api-error';

/**
 * The GraphQL explorer: GraphiQL, React and the graphql-ws client from node_modules plus our own
 * wiring (gateway/explorer/explorer.js), so it works offline and talks to nobody but this gateway.
 */
interface ExplorerOptions {
  /** A short-lived token for DEMO_USER to pre-fill the Authorization header with; never given in production. */
  demoToken?: () => string;
}

/** Answers the request if it is the explorer's; false leaves it to the other routes. */
export type ExplorerRoute = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean;

const DEMO_USER = 'demo';

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const fromModules = (...parts: string[]) => path.join(PROJECT_ROOT, 'node_modules', ...parts);

/** Served by name only: a URL never becomes a file path, so `..` has nothing to climb. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'react.js': { file: fromModules('react', 'umd', 'react.production.min.js'), type: JS },
  'react-dom.js': { file: fromModules('react-dom', 'umd', 'react-dom.production.min.js'), type: JS },
  'graphql-ws.js': { file: fromModules('graphql-ws', 'umd', 'graphql-ws.min.js'), type: JS },
  'graphiql.js': { file: fromModules('graphiql', 'graphiql.min.js'), type: JS },
  'graphiql.css': { file: fromModules('graphiql', 'graphiql.min.css'), type: CSS },
  'explorer.js': { file: path.join(PROJECT_ROOT, 'gateway', 'explorer', 'explorer.js'), type: JS },
};

/** GraphiQL sets style attributes and inlines its icons as data: URIs; nothing else is needed. */
const EXPLORER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSET_PREFIX = '/explorer/assets/';

interface LoadedAsset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Read once at start: a missing file is a broken install, better found then than by the first visitor. */
function loadAssets(): Map<string, LoadedAsset> {
  return new Map(
    Object.entries(ASSETS).map(([name, { file, type }]) => {
      const body = fs.readFileSync(file);
      return [name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }];
    }),
  );
}

/** A browser's page request (not a GraphQL GET, which carries a query and asks for JSON). */
const wantsHtml = (req: http.IncomingMessage, url: URL): boolean =>
  !url.searchParams.has('query') && (req.headers.accept ?? '').includes('text/html');

/**
 * The explorer when EXPLORER is on; its pre-filled sign-in (an hour at most) only where NODE_ENV
 * says development or test, as `npm start` and the tests do.
 */
export function explorerFor(config: GatewayConfig): ExplorerRoute | undefined {
  if (!config.EXPLORER) return undefined;
  const ttlSeconds = Math.min(3600, config.JWT_MAX_TTL_SECONDS);
  return explorerRoutes({
    demoToken: config.explorerSignsIn ? () => signToken(DEMO_USER, tokenPolicy(config), { ttlSeconds }) : undefined,
  });
}

function explorerRoutes(options: ExplorerOptions): ExplorerRoute {
  const assets = loadAssets();
  return (req, res, url) => {
    const page =
      url.pathname === '/explorer' || (url.pathname === '/graphql' && req.method === 'GET' && wantsHtml(req, url));
    if (!page && !url.pathname.startsWith('/explorer/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`);
    if (page) sendPage(res, options);
    else sendAsset(req, res, findAsset(assets, url.pathname));
    return true;
  };
}

function findAsset(assets: Map<string, LoadedAsset>, pathname: string): LoadedAsset {
  const asset = pathname.startsWith(ASSET_PREFIX) ? assets.get(pathname.slice(ASSET_PREFIX.length)) : undefined;
  if (!asset) throw new ApiError('NOT_FOUND', 'no such explorer file');
  return asset;
}

const securityHeaders = {
  'content-security-policy': EXPLORER_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function sendPage(res: http.ServerResponse, options: ExplorerOptions): void {
  // The page may carry a token: never cached, never stored.
  res.writeHead(200, { ...securityHeaders, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(
    renderPage({
      endpoint: '/graphql',
      demoToken: options.demoToken?.() ?? null,
      demoUser: options.demoToken ? DEMO_USER : null,
    }),
  );
}

/** Files change only with an install, so a day's caching is safe; the ETag revalidates after that. */
function sendAsset(req: http.IncomingMessage, res: http.ServerResponse, asset: LoadedAsset): void {
  const headers = {
    ...securityHeaders,
    'content-type': asset.type,
    'cache-control': 'public, max-age=86400',
    etag: asset.etag,
  };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  // Node drops the body of a HEAD answer by itself.
  res.writeHead(200, { ...headers, 'content-length': asset.body.length }).end(asset.body);
}

/** `<` escaped so no value can close the data block; a JSON block is data, which the CSP lets through. */
const jsonForHtml = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

function renderPage(settings: { endpoint: string; demoToken: string | null; demoUser: string | null }): string {
  const scripts = ['react.js', 'react-dom.js', 'graphql-ws.js', 'graphiql.js', 'explorer.js'];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Payments GraphQL explorer</title>
<link rel="stylesheet" href="${ASSET_PREFIX}graphiql.css">
<style>html, body, #explorer { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="explorer">Loading the explorer…</div>
<script type="application/json" id="explorer-settings">${jsonForHtml(settings)}</script>
${scripts.map((name) => `<script src="${ASSET_PREFIX}${name}"></script>`).join('\n')}
</body>
</html>
`;
}

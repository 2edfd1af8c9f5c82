// Runs in the browser, as is (no build step): wires GraphiQL to this gateway. Queries and mutations go
// over HTTP, subscriptions over graphql-ws; both carry the Authorization header from the Headers
// editor, which graphql-ws sends in connection_init since a browser WebSocket cannot set headers.
(function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('explorer-settings').textContent);
  var httpUrl = new URL(settings.endpoint, location.href).href;
  var wsUrl = httpUrl.replace(/^http/, 'ws');
  var sockets = new Map(); // one graphql-ws client per Authorization value

  function authorizationOf(headers) {
    var name = Object.keys(headers || {}).find(function (key) {
      return key.toLowerCase() === 'authorization';
    });
    return name === undefined ? undefined : String(headers[name]);
  }

  function socketFor(authorization) {
    if (!sockets.has(authorization)) {
      sockets.set(
        authorization,
        graphqlWs.createClient({ url: wsUrl, connectionParams: authorization ? { authorization: authorization } : {} }),
      );
    }
    return sockets.get(authorization);
  }

  function isSubscription(params, document) {
    return (document ? document.definitions : []).some(function (d) {
      return (
        d.kind === 'OperationDefinition' &&
        d.operation === 'subscription' &&
        (!params.operationName || (d.name && d.name.value === params.operationName))
      );
    });
  }

  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    if (isSubscription(params, options && options.documentAST))
      return socketFor(authorizationOf(headers)).iterate(params);
    return fetch(httpUrl, {
      method: 'POST',
      headers: Object.assign({ 'content-type': 'application/json', accept: 'application/json' }, headers),
      body: JSON.stringify(params),
    }).then(function (response) {
      return response.json();
    });
  }

  var intro = [
    '# Payments GraphQL explorer',
    '#   HTTP:      ' + httpUrl,
    '#   WebSocket: ' + wsUrl + ' (graphql-ws; connection_init carries { authorization })',
    settings.demoUser
      ? '# Signed in as "' +
        settings.demoUser +
        '" with a short-lived token (see Headers); reload the page for a fresh one.'
      : '# Put "Authorization": "Bearer <token>" in Headers (npm run token -- <user>).',
    '',
    'query MyAccounts {',
    '  myAccounts { currency balance }',
    '}',
    '',
  ].join('\n');

  ReactDOM.createRoot(document.getElementById('explorer')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: intro,
      defaultHeaders: settings.demoToken
        ? JSON.stringify({ Authorization: 'Bearer ' + settings.demoToken }, null, 2)
        : undefined,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
})();

// The socket-activated server of the sockact-first-request case, written the
// way the generated project does it: the runtime adopts the socket passed
// under the name "http", and would listen on the fallback address when
// started by hand. Same handler as sockact-server-anchor.mjs.
import http from 'node:http';

import { listen } from '../../runtime/dist/index.js';

const server = http.createServer((request, response) => response.end('ok\n'));
await listen(server, { name: 'http', fallback: { port: 8080, host: '127.0.0.1' } });

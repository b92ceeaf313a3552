// The anchor of the sockact-first-request case: the same server adopting
// the passed socket by hand, with no library: listen({ fd: 3 }).
import http from 'node:http';

const server = http.createServer((request, response) => response.end('ok\n'));
server.listen({ fd: 3 });

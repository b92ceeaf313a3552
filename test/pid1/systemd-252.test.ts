// PID-1 systemd 252: this machine's own root (Debian 12) booted as a
// container, a tmpfs over everything but /usr, so the host is not touched.
import { describeVersion } from './suite.js';

describeVersion({
  version: 252,
  tree: async () => ({ directory: '/', volatile: 'yes', builtSeconds: null }),
});

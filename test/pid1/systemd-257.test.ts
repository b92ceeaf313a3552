// PID-1 systemd 257: a Debian 13 (trixie) tree from debootstrap, cached
// between runs, booted under a tmpfs overlay so the cache stays pristine.
// Here Type=notify-reload runs for real.
import { debianRoot } from './roots.js';
import { describeVersion } from './suite.js';

describeVersion({
  version: 257,
  tree: async () => {
    const { dir, builtSeconds } = await debianRoot('trixie');
    return { directory: dir, volatile: 'overlay', builtSeconds };
  },
});

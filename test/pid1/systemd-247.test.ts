// PID-1 systemd 247: a Debian 11 (bullseye) tree from debootstrap, cached
// between runs, booted under a tmpfs overlay so the cache stays pristine.
import { debianRoot } from './roots.js';
import { describeVersion } from './suite.js';

describeVersion({
  version: 247,
  tree: async () => {
    const { dir, builtSeconds } = await debianRoot('bullseye');
    return { directory: dir, volatile: 'overlay', builtSeconds };
  },
});

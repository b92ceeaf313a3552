// The addon in the test process, for what Node cannot make (AF_UNIX datagram
// sockets, pidfds, sends with a deadline). Asked for inside each test, never
// at file scope: without the addon a file must still load and run its other
// tests, and each test that needs it fails with the reason, not a TypeError.
import { nativeBinding, nativeLoadError, type NativeBinding } from '../../runtime/dist/native.js';

export function addon(): NativeBinding {
  const native = nativeBinding();
  if (native === null) {
    throw new Error(
      `this test needs the sd-daemon-runtime addon in the test process, and it is not loaded: ${nativeLoadError()?.message ?? 'unknown reason'} (test/no-native.test.ts covers life without it)`,
    );
  }
  return native;
}

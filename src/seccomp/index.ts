// Public surface of the seccomp component: the supervisor of the filter's listeners
// (the filter itself is native/seccomp-filter.h, installed by native/vnode-runtime-exec.c).
export { Supervisor, type ListenerContext, type ListenerKeeper, type SupervisorStats } from './supervisor.js';
export { encodeSysinfo, parseNotification, type Notification } from './abi.js';
export { filteredCommand, takeListener, HANDOFF_FD } from './handoff.js';
export { seccompNotifications, type SeccompNotification } from './diagnostics.js';

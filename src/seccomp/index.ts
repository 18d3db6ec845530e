// Public surface of the seccomp component: the supervisor of vnode-seccomp's listeners
// (the filter itself is native/vnode-seccomp.c, installed by the OCI runtime's wrapper).
export { Supervisor, type ListenerContext, type ListenerKeeper, type SupervisorStats } from './supervisor.js';
export { encodeSysinfo, parseNotification, type Notification } from './abi.js';
export { filteredCommand, takeListener, HANDOFF_FD } from './handoff.js';

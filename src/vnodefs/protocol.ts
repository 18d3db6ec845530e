// FUSE kernel protocol facts (include/uapi/linux/fuse.h), written as plain constants.
// vnodefs answers protocol 7.x with the minor the kernel offers, capped at PROTOCOL_MINOR.

export const PROTOCOL_MAJOR = 7;
/** Highest minor whose init_out layout we write (64 bytes, unchanged since 7.36). */
export const PROTOCOL_MINOR = 38;

/** Request opcodes (fuse_opcode). */
export const Op = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  SETXATTR: 21,
  GETXATTR: 22,
  LISTXATTR: 23,
  REMOVEXATTR: 24,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  DESTROY: 38,
  POLL: 40,
  BATCH_FORGET: 42,
  READDIRPLUS: 44,
  LSEEK: 46,
  STATX: 52,
} as const;

/** Init flags (fuse_init_in.flags / fuse_init_out.flags). */
export const InitFlag = {
  ASYNC_READ: 1 << 0,
  BIG_WRITES: 1 << 5,
  PARALLEL_DIROPS: 1 << 18,
  MAX_PAGES: 1 << 22,
  INIT_EXT: 1 << 30,
} as const;

/** fuse_open_out.open_flags */
export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;
export const FOPEN_NONSEEKABLE = 1 << 2;

/** fuse_setattr_in.valid bits we look at. */
export const FATTR_SIZE = 1 << 3;

/** Byte sizes of the structures vnodefs reads or writes. */
export const Size = {
  IN_HEADER: 40,
  OUT_HEADER: 16,
  INIT_IN_MIN: 16, // major, minor, max_readahead, flags (flags2 follows with INIT_EXT)
  INIT_OUT: 64,
  ATTR: 88,
  ENTRY_OUT: 128,
  ATTR_OUT: 104,
  OPEN_IN: 8,
  OPEN_OUT: 16,
  READ_IN: 40,
  WRITE_IN: 40,
  WRITE_OUT: 8,
  RELEASE_IN: 24,
  SETATTR_IN: 88,
  STATFS_OUT: 80,
  DIRENT_HEADER: 24, // ino, off, namelen, type; then the name, padded to 8 bytes
  INTERRUPT_IN: 8,
} as const;

/** Offsets inside fuse_in_header. */
export const InHeader = {
  LEN: 0,
  OPCODE: 4,
  UNIQUE: 8,
  NODEID: 16,
  UID: 24,
  GID: 28,
  PID: 32,
  TOTAL_EXTLEN: 36,
} as const;

/** The root directory's node id is fixed by the protocol. */
export const ROOT_ID = 1;

/** Values we announce in INIT. max_write bounds the size of WRITE requests. */
export const MAX_WRITE = 128 * 1024;
/** Reads from /dev/fuse after INIT need at least max_write + 4 KiB (else EINVAL). */
export const READ_BUFFER_SIZE = MAX_WRITE + 4096 + Size.IN_HEADER + Size.WRITE_IN;

/** ioctl on a fresh /dev/fuse descriptor attaching it to an existing connection: _IOR(229, 0, uint32_t). */
export const FUSE_DEV_IOC_CLONE = 0x8004e500;

/** d_type values used in fuse_dirent.type. */
export const DT_DIR = 4;
export const DT_REG = 8;

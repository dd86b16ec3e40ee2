package hostfs

import "golang.org/x/sys/unix"

// kernelMagic are the file systems of the kernel's own state: the host's
// processes, devices, cgroups and tracing. Mounted somewhere in the host's
// tree (a chroot's /proc), they are shown empty; the sandbox has its own.
var kernelMagic = map[int64]bool{
	unix.PROC_SUPER_MAGIC: true, unix.SYSFS_MAGIC: true, unix.DEVPTS_SUPER_MAGIC: true,
	unix.CGROUP_SUPER_MAGIC: true, unix.CGROUP2_SUPER_MAGIC: true, unix.DEBUGFS_MAGIC: true,
	unix.TRACEFS_MAGIC: true, unix.SECURITYFS_MAGIC: true, unix.BPF_FS_MAGIC: true,
	0x65735543 /* fusectl */ : true, 0x62656570 /* configfs */ : true, unix.EFIVARFS_MAGIC: true,
	unix.PSTOREFS_MAGIC: true, unix.BINFMTFS_MAGIC: true, 0x19800202 /* mqueue */ : true,
	unix.NSFS_MAGIC: true, unix.SELINUX_MAGIC: true, unix.SMACK_MAGIC: true,
}

// kernelFS reports whether the directory name in dir lies on one of them,
// or cannot be checked.
func kernelFS(dir int, name string) bool {
	fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return true
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return true
	}
	return kernelMagic[int64(st.Type)]
}

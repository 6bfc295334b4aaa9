#include "heapscope/debugfile.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "heapscope/error.h"

#define DEBUG_ROOT "/usr/lib/debug"

/* The file name a .gnu_debuglink section names; false if none or unsafe. */
static bool debuglink_of(int fd, char *out, size_t outlen)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	bool found = false;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		goto out;
	while (!found && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		const char *name;
		Elf_Data *data;
		size_t len;

		if (!gelf_getshdr(scn, &shdr) ||
		    !(name = elf_strptr(elf, shstrndx, shdr.sh_name)) ||
		    strcmp(name, ".gnu_debuglink") != 0 || !(data = elf_getdata(scn, NULL)) ||
		    !data->d_buf)
			continue;
		len = strnlen(data->d_buf, data->d_size);
		/* a plain file name: anything with a '/' could point anywhere */
		if (len == 0 || len >= data->d_size || len >= outlen ||
		    memchr(data->d_buf, '/', len) || strcmp(data->d_buf, "..") == 0 ||
		    strcmp(data->d_buf, ".") == 0)
			break;
		memcpy(out, data->d_buf, len + 1);
		found = true;
	}
out:
	if (elf)
		elf_end(elf);
	return found;
}

/* Open `path` in the target's root (pass 0) or ours (pass 1); keep it
 * only if its build id is `want`. */
static int try_candidate(const struct hs_files *files, int pass, const char *path,
			 const char *want)
{
	char id[64];
	Elf *elf;
	int fd;

	fd = pass == 0 ? hs_files_open(files, path) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF)
		hs_elf_build_id(elf, id, sizeof(id));
	else
		id[0] = '\0';
	if (elf)
		elf_end(elf);
	if (!id[0] || strcmp(id, want) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Where pass 0 looked, for `where`. */
static const char *root_name(const struct hs_files *files)
{
	if (hs_files_is_live(files))
		return " (target's root)";
	return files->sysroot[0] ? " (sysroot)" : " (host)";
}

int hs_debugfile_open(const struct hs_files *files, const struct hs_pyelf *py, char *where,
		      size_t wherelen)
{
	char cand[4][PATH_MAX + 300], dir[PATH_MAX], link[256];
	int ncand = 0, fd;
	char *slash;

	elf_version(EV_CURRENT);
	if (!py->build_id[0])
		return hs_error(HS_ENOLAYOUT, "%s has no build id to find its debug file by",
				py->path);
	snprintf(cand[ncand++], sizeof(cand[0]), DEBUG_ROOT "/.build-id/%.2s/%s.debug",
		 py->build_id, py->build_id + 2);

	fd = hs_pyelf_open(files, py);
	if (fd >= 0) {
		bool have = debuglink_of(fd, link, sizeof(link));

		close(fd);
		snprintf(dir, sizeof(dir), "%s", py->path);
		slash = strrchr(dir, '/');
		if (have && slash) {
			*slash = '\0';
			snprintf(cand[ncand++], sizeof(cand[0]), "%s/%s", dir, link);
			snprintf(cand[ncand++], sizeof(cand[0]), "%s/.debug/%s", dir, link);
			snprintf(cand[ncand++], sizeof(cand[0]), DEBUG_ROOT "%s/%s", dir, link);
		}
	}
	/* without a sysroot, the target's root is ours: one pass */
	for (int pass = 0; pass < (hs_files_is_live(files) || files->sysroot[0] ? 2 : 1); pass++)
		for (int i = 0; i < ncand; i++) {
			/* the binary itself may be the debuglink candidate: it has
			 * the same build id but no DWARF; the caller tried it already */
			if (strcmp(cand[i], py->path) == 0)
				continue;
			fd = try_candidate(files, pass, cand[i], py->build_id);
			if (fd >= 0) {
				snprintf(where, wherelen, "%s%s", cand[i],
					 pass == 0 ? root_name(files) : " (host)");
				return fd;
			}
		}
	return hs_error(HS_ENOLAYOUT, "no debug file with build id %s for %s", py->build_id,
			py->path);
}

/*
 * Unit test of the code checks: the evaluator on hand-assembled x86-64
 * bytes, then every check on real interpreters read live, against their
 * DWARF layouts, and with deliberately corrupted layouts.
 */
#include "heapscope/codecheck.h"
#include "heapscope/dwarf.h"
#include "heapscope/elfinfo.h"
#include "heapscope/error.h"
#include "heapscope/maps.h"
#include "heapscope/memsrc.h"
#include "heapscope/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

/* --- the evaluator on hand-assembled bytes --------------------------- */

#define CODE 0x400000u    /* where test functions live */
#define GOT 0x600000u     /* a GOT in RELRO */
#define RUNTIME 0x700000u /* a stand-in _PyRuntime */

static const struct hs_cc_env env = {
	.relro_start = GOT, .relro_end = GOT + 0x100,
	.global = RUNTIME, .global_size = 0x1000,
};

/* One function of `len` bytes at CODE (`size` as its st_size), the GOT
 * holding the runtime's address, and the runtime itself. */
static int derive_env(const void *code, size_t len, uint64_t size, enum hs_cc_pattern pattern,
		      const struct hs_cc_env *e, int64_t *d)
{
	struct hs_image *img = hs_image_new(0);
	uint64_t *got = calloc(32, 8);
	void *copy = malloc(len), *runtime = calloc(1, 0x1000);
	int err;

	if (!img || !got || !copy || !runtime)
		return HS_ENOMEM;
	memcpy(copy, code, len);
	got[0] = RUNTIME;
	got[1] = RUNTIME + 0x28;
	hs_image_add(img, CODE, copy, len);
	hs_image_add(img, GOT, got, 32 * 8);
	hs_image_add(img, RUNTIME, runtime, 0x1000);
	hs_image_seal(img);
	*d = -1;
	err = hs_cc_derive(hs_image_memsrc(img), e, CODE, size, pattern, d);
	hs_memsrc_free(hs_image_memsrc(img));
	return err;
}

static int derive(const void *code, size_t len, enum hs_cc_pattern pattern, int64_t *d)
{
	return derive_env(code, len, len, pattern, &env, d);
}

/* "rel32" operand that makes an instruction ending at CODE+end reach target */
#define REL32(end, target) \
	(uint8_t)((target) - (CODE + (end))), (uint8_t)(((target) - (CODE + (end))) >> 8), \
	(uint8_t)(((target) - (CODE + (end))) >> 16), (uint8_t)(((target) - (CODE + (end))) >> 24)

#define EXPECT(code, pattern, want, what)                                                   \
	do {                                                                                \
		int64_t d_;                                                                 \
		int e_ = derive(code, sizeof(code), pattern, &d_);                          \
		ok(e_ == 0 && d_ == (want), "%s: %#" PRIx64 " (%s)", what, (uint64_t)d_,    \
		   e_ ? hs_errmsg() : "ok");                                                \
	} while (0)

#define REFUSE(code, pattern, what)                                                         \
	do {                                                                                \
		int64_t d_;                                                                 \
		int e_ = derive(code, sizeof(code), pattern, &d_);                          \
		ok(e_ == HS_ENOLAYOUT, "%s: unavailable (%s)", what,                        \
		   e_ ? hs_errmsg() : "derived a value");                                   \
	} while (0)

static void test_evaluator(void)
{
	/* mov rax,[rdi+8]; ret */
	static const uint8_t getter[] = {0x48, 0x8b, 0x47, 0x08, 0xc3};
	/* mov rax,[rip+GOT+8 (a type)]; cmp [rdi+8],rax; jne err;
	 * mov rax,[rdi+0x30]; ret; err: sub rsp,8; call; xor eax,eax; add rsp,8; ret */
	static const uint8_t checked[] = {
		0x48, 0x8b, 0x05, REL32(7, GOT + 8), 0x48, 0x39, 0x47, 0x08, 0x75, 0x05,
		0x48, 0x8b, 0x47, 0x30, 0xc3, 0x48, 0x83, 0xec, 0x08, 0xe8, 0, 0, 0, 0,
		0x31, 0xc0, 0x48, 0x83, 0xc4, 0x08, 0xc3};
	/* test rdi,rdi; je 1f; mov rax,[rdi+8]; ret; 1: mov rax,[rdi+0x10]; ret */
	static const uint8_t two_fields[] = {
		0x48, 0x85, 0xff, 0x74, 0x05, 0x48, 0x8b, 0x47, 0x08, 0xc3,
		0x48, 0x8b, 0x47, 0x10, 0xc3};
	/* test rdi,rdi; je 1f; mov rax,[rdi+8]; ret; 1: mov rax,-1; ret */
	static const uint8_t error_path[] = {
		0x48, 0x85, 0xff, 0x74, 0x05, 0x48, 0x8b, 0x47, 0x08, 0xc3,
		0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xc3};
	/* mov rax,[rip+RUNTIME+0x28]; ret (non-PIE: the address is in the code) */
	static const uint8_t absolute[] = {0x48, 0x8b, 0x05, REL32(7, RUNTIME + 0x28), 0xc3};
	/* mov rax,[rip+RUNTIME+0x2000]; ret: outside the runtime */
	static const uint8_t outside[] = {0x48, 0x8b, 0x05, REL32(7, RUNTIME + 0x2000), 0xc3};
	/* mov rax,[rip+GOT]; mov rax,[rax+0x28]; ret (PIC: the GOT holds &_PyRuntime) */
	static const uint8_t via_got[] = {
		0x48, 0x8b, 0x05, REL32(7, GOT), 0x48, 0x8b, 0x40, 0x28, 0xc3};
	/* mov rax,[rdi+0x18]; mov rax,[rax+rsi*8]; ret (PyList_GetItem) */
	static const uint8_t list_item[] = {
		0x48, 0x8b, 0x47, 0x18, 0x48, 0x8b, 0x04, 0xf0, 0xc3};
	/* mov rax,[rdi+rsi*8+0x18]; ret (PyTuple_GetItem) */
	static const uint8_t tuple_item[] = {0x48, 0x8b, 0x44, 0xf7, 0x18, 0xc3};
	/* mov rax,fs:[-0x18]; mov rax,[rax+0x10]; mov eax,[rax+0x1cf4]; ret */
	static const uint8_t tls_le[] = {
		0x64, 0x48, 0x8b, 0x04, 0x25, 0xe8, 0xff, 0xff, 0xff, 0x48, 0x8b, 0x40, 0x10,
		0x8b, 0x80, 0xf4, 0x1c, 0x00, 0x00, 0xc3};
	/* sub rsp,8; data16 lea rdi,[rip+GOT+0x10]; data16 data16 rex.W call
	 * __tls_get_addr; mov rax,[rax]; mov rax,[rax+0x10]; mov eax,[rax+0x7c];
	 * add rsp,8; ret (general-dynamic TLS in a shared libpython) */
	static const uint8_t tls_gd[] = {
		0x48, 0x83, 0xec, 0x08, 0x66, 0x48, 0x8d, 0x3d, REL32(12, GOT + 0x10),
		0x66, 0x66, 0x48, 0xe8, 0x00, 0x10, 0x00, 0x00, 0x48, 0x8b, 0x00,
		0x48, 0x8b, 0x40, 0x10, 0x8b, 0x40, 0x7c, 0x48, 0x83, 0xc4, 0x08, 0xc3};
	/* the same without the GOT argument: rax is just some call's result */
	static const uint8_t call_result[] = {
		0x48, 0x83, 0xec, 0x08, 0xe8, 0x00, 0x10, 0x00, 0x00, 0x48, 0x8b, 0x00,
		0x48, 0x8b, 0x40, 0x10, 0x8b, 0x40, 0x7c, 0x48, 0x83, 0xc4, 0x08, 0xc3};
	/* sub rsp,0x18; mov [rsp+8],rdi; call; mov rdi,[rsp+8];
	 * mov rax,[rdi+0x2100]; add rsp,0x18; ret (a spilled argument) */
	static const uint8_t spill[] = {
		0x48, 0x83, 0xec, 0x18, 0x48, 0x89, 0x7c, 0x24, 0x08, 0xe8, 0, 0, 0, 0,
		0x48, 0x8b, 0x7c, 0x24, 0x08, 0x48, 0x8b, 0x87, 0x00, 0x21, 0x00, 0x00,
		0x48, 0x83, 0xc4, 0x18, 0xc3};
	/* push rbx; mov rbx,rdi; call; mov rax,[rbx+0x10]; pop rbx; ret */
	static const uint8_t callee_saved[] = {
		0x53, 0x48, 0x89, 0xfb, 0xe8, 0, 0, 0, 0, 0x48, 0x8b, 0x43, 0x10, 0x5b, 0xc3};
	/* the same, but the call clobbers rdi, which is then used */
	static const uint8_t clobbered[] = {
		0x53, 0x48, 0x89, 0xfb, 0xe8, 0, 0, 0, 0, 0x48, 0x8b, 0x47, 0x10, 0x5b, 0xc3};
	/* test rdi,rdi; je <far away: a tail call>; mov rax,[rdi+8]; ret */
	static const uint8_t tail_branch[] = {
		0x48, 0x85, 0xff, 0x0f, 0x84, REL32(9, CODE + 0x10000), 0x48, 0x8b, 0x47, 0x08, 0xc3};
	/* jmp <elsewhere> */
	static const uint8_t tail_only[] = {0xe9, REL32(5, CODE + 0x10000)};
	/* mov rax,[rdi+8]; imul rax,rax; ret: not modelled, so UNKNOWN */
	static const uint8_t imul[] = {0x48, 0x8b, 0x47, 0x08, 0x48, 0x0f, 0xaf, 0xc0, 0xc3};
	/* mov rax,[rdi+8]; cmove rax,[rdi+0x10]; ret: either field */
	static const uint8_t cmov[] = {0x48, 0x8b, 0x47, 0x08, 0x48, 0x0f, 0x44, 0x47, 0x10, 0xc3};
	/* mov eax,[rdi+0x10]; ret: a 32-bit field */
	static const uint8_t narrow[] = {0x8b, 0x47, 0x10, 0xc3};
	/* mov eax,edi; mov rax,[rax+8]; ret: the truncated pointer is UNKNOWN */
	static const uint8_t truncated_ptr[] = {0x89, 0xf8, 0x48, 0x8b, 0x40, 0x08, 0xc3};
	/* mov rdx,fs:[-0x18]; test rdx,rdx; je 1f; mov rdx,[rdx+0x80];
	 * 1: mov rax,rdx; ret (the NULL side returns the tested register: 0) */
	static const uint8_t null_check[] = {
		0x64, 0x48, 0x8b, 0x14, 0x25, 0xe8, 0xff, 0xff, 0xff, 0x48, 0x85, 0xd2,
		0x74, 0x07, 0x48, 0x8b, 0x92, 0x80, 0x00, 0x00, 0x00, 0x48, 0x89, 0xd0, 0xc3};
	/* the same with jne: the fall-through side is the NULL one */
	static const uint8_t null_check_jne[] = {
		0x64, 0x48, 0x8b, 0x14, 0x25, 0xe8, 0xff, 0xff, 0xff, 0x48, 0x85, 0xd2,
		0x75, 0x04, 0x48, 0x89, 0xd0, 0xc3, 0x48, 0x8b, 0x82, 0x80, 0x00, 0x00, 0x00, 0xc3};
	/* ... and with the test on another register: nothing known */
	static const uint8_t other_test[] = {
		0x64, 0x48, 0x8b, 0x14, 0x25, 0xe8, 0xff, 0xff, 0xff, 0x48, 0x85, 0xc9,
		0x74, 0x07, 0x48, 0x8b, 0x92, 0x80, 0x00, 0x00, 0x00, 0x48, 0x89, 0xd0, 0xc3};
	/* mov rax,[rdi+0x18]; mov rax,[rax+0x20]; ret (PyFrame_GetCode, 3.11) */
	static const uint8_t ptr_field[] = {0x48, 0x8b, 0x47, 0x18, 0x48, 0x8b, 0x40, 0x20, 0xc3};
	/* mov rax,[rdi+0x18]; mov rax,[rax]; and rax,-2; ret (3.14: a tagged
	 * _PyStackRef) */
	static const uint8_t tagged[] = {
		0x48, 0x8b, 0x47, 0x18, 0x48, 0x8b, 0x00, 0x48, 0x83, 0xe0, 0xfe, 0xc3};
	/* mov rax,[rdi+0x18]; and rax,-16; ret: not a tag mask */
	static const uint8_t masked[] = {0x48, 0x8b, 0x47, 0x18, 0x48, 0x83, 0xe0, 0xf0, 0xc3};
	/* 1: jmp 1b */
	static const uint8_t loop[] = {0xeb, 0xfe};
	/* invalid in 64-bit mode */
	static const uint8_t garbage[] = {0x06, 0x07, 0x06, 0x07, 0xc3};
	uint8_t many[20 * 2 + 5];
	int64_t d;
	int err;

	EXPECT(getter, HS_CC_ARG0_FIELD, 8, "simple getter");
	REFUSE(getter, HS_CC_ARG0_ITEM, "simple getter is not an item load");
	EXPECT(checked, HS_CC_ARG0_FIELD, 0x30, "getter after a type check, error path returns NULL");
	REFUSE(two_fields, HS_CC_ARG0_FIELD, "paths returning different fields");
	EXPECT(error_path, HS_CC_ARG0_FIELD, 8, "error path returning -1 is ignored");
	EXPECT(absolute, HS_CC_GLOBAL, 0x28, "RIP-relative absolute load");
	REFUSE(outside, HS_CC_GLOBAL, "absolute load outside the global");
	REFUSE(absolute, HS_CC_ARG0_FIELD, "absolute load is not an argument field");
	EXPECT(via_got, HS_CC_GLOBAL, 0x28, "load through the GOT");
	{
		struct hs_cc_env no_relro = env;

		no_relro.relro_start = no_relro.relro_end = 0;
		err = derive_env(via_got, sizeof(via_got), sizeof(via_got), HS_CC_GLOBAL, &no_relro, &d);
		ok(err == HS_ENOLAYOUT, "GOT outside RELRO is not read (%s)",
		   err ? hs_errmsg() : "derived");
	}
	EXPECT(list_item, HS_CC_ARG0_PTR_ITEM, 0x18, "index-scaled load through a field");
	REFUSE(list_item, HS_CC_ARG0_FIELD, "list item is not a plain field");
	EXPECT(tuple_item, HS_CC_ARG0_ITEM, 0x18, "index-scaled load from the object");
	REFUSE(tuple_item, HS_CC_ARG0_FIELD, "tuple item is not a plain field");
	EXPECT(tls_le, HS_CC_CURRENT_FIELD, 0x1cf4, "thread-local (fs:) then two loads");
	EXPECT(tls_gd, HS_CC_CURRENT_FIELD, 0x7c, "__tls_get_addr then loads");
	REFUSE(call_result, HS_CC_CURRENT_FIELD, "loads from a plain call's result");
	REFUSE(tls_le, HS_CC_ARG0_FIELD, "thread-local is not an argument");
	EXPECT(spill, HS_CC_ARG0_FIELD, 0x2100, "argument spilled to the stack across a call");
	EXPECT(callee_saved, HS_CC_ARG0_FIELD, 0x10, "callee-saved register across a call");
	REFUSE(clobbered, HS_CC_ARG0_FIELD, "caller-saved register after a call");
	EXPECT(tail_branch, HS_CC_ARG0_FIELD, 8, "branch out of the function is a tail call");
	REFUSE(tail_only, HS_CC_ARG0_FIELD, "only a tail call");
	REFUSE(imul, HS_CC_ARG0_FIELD, "unmodelled arithmetic");
	REFUSE(cmov, HS_CC_ARG0_FIELD, "cmov between two fields");
	EXPECT(narrow, HS_CC_ARG0_FIELD, 0x10, "32-bit load");
	REFUSE(truncated_ptr, HS_CC_ARG0_FIELD, "pointer truncated to 32 bits");
	EXPECT(null_check, HS_CC_CURRENT_FIELD, 0x80, "je after test: the register is NULL there");
	EXPECT(null_check_jne, HS_CC_CURRENT_FIELD, 0x80, "jne after test: NULL on the fall-through");
	REFUSE(other_test, HS_CC_CURRENT_FIELD, "test of another register says nothing");
	EXPECT(ptr_field, HS_CC_ARG0_PTR, 0x18, "two loads: the pointer field");
	EXPECT(ptr_field, HS_CC_ARG0_PTR_FIELD, 0x20, "two loads: the field behind it");
	REFUSE(ptr_field, HS_CC_ARG0_FIELD, "two loads are not one field");
	REFUSE(getter, HS_CC_ARG0_PTR_FIELD, "one load is not two");
	EXPECT(tagged, HS_CC_ARG0_PTR_FIELD, 0, "tag bits cleared from a loaded pointer");
	REFUSE(masked, HS_CC_ARG0_FIELD, "wider mask is arithmetic");
	REFUSE(loop, HS_CC_ARG0_FIELD, "endless loop");
	REFUSE(garbage, HS_CC_ARG0_FIELD, "garbage bytes");

	/* only the first 3 bytes of the getter are readable */
	err = derive_env(getter, 3, sizeof(getter), HS_CC_ARG0_FIELD, &env, &d);
	ok(err == HS_ENOLAYOUT, "truncated function (%s)", err ? hs_errmsg() : "derived");
	/* st_size larger than what can be read: the readable prefix serves */
	err = derive_env(getter, sizeof(getter), 200, HS_CC_ARG0_FIELD, &env, &d);
	ok(err == 0 && d == 8, "st_size beyond the readable bytes (%s)", err ? hs_errmsg() : "ok");
	/* no readable byte at all */
	{
		struct hs_image *img = hs_image_new(0);

		hs_image_seal(img);
		err = hs_cc_derive(hs_image_memsrc(img), &env, CODE, 5, HS_CC_ARG0_FIELD, &d);
		hs_memsrc_free(hs_image_memsrc(img));
		ok(err == HS_ENOLAYOUT, "unreadable code (%s)", err ? hs_errmsg() : "derived");
	}

	/* 20 conditional branches forward: more paths than the bound */
	for (int i = 0; i < 20; i++) {
		many[2 * i] = 0x74; /* je +0 */
		many[2 * i + 1] = 0x00;
	}
	memcpy(many + 40, getter, sizeof(getter));
	err = derive(many, sizeof(many), HS_CC_ARG0_FIELD, &d);
	ok(err == HS_ENOLAYOUT, "too many paths (%s)", err ? hs_errmsg() : "derived");

	/* random bytes: never a crash, and almost never a value */
	{
		unsigned seed = 12345, derived = 0;
		uint8_t junk[512];

		for (int round = 0; round < 300; round++) {
			for (size_t i = 0; i < sizeof(junk); i++) {
				seed = seed * 1103515245u + 12345u;
				junk[i] = (uint8_t)(seed >> 16);
			}
			for (int p = HS_CC_ARG0_FIELD; p <= HS_CC_CURRENT_FIELD; p++)
				derived += derive(junk, sizeof(junk), (enum hs_cc_pattern)p, &d) == 0;
		}
		ok(derived < 15, "random bytes: %u of 1500 evaluations derived a value", derived);
	}
}

/* --- hs_codecheck_run on a synthetic interpreter ---------------------- */

static const struct hs_check *find(const struct hs_check_list *l, const char *source);

static void test_run(void)
{
	/* PyThreadState_Next: mov rax,[rdi+8]; ret */
	static const uint8_t ts_next[] = {0x48, 0x8b, 0x47, 0x08, 0xc3};
	/* PyList_Size: mov rax,[rdi+0x10]; ret */
	static const uint8_t list_size[] = {0x48, 0x8b, 0x47, 0x10, 0xc3};
	/* PyTuple_Size: mov rax,[rdi+0x18]; ret, disagreeing with PyList_Size */
	static const uint8_t tuple_size[] = {0x48, 0x8b, 0x47, 0x18, 0xc3};
	/* PyGC_IsEnabled: mov rax,fs:[-0x18]; mov rax,[rax+0x10]; mov eax,[rax+0x7c]; ret */
	static const uint8_t gc[] = {
		0x64, 0x48, 0x8b, 0x04, 0x25, 0xe8, 0xff, 0xff, 0xff, 0x48, 0x8b, 0x40, 0x10,
		0x8b, 0x40, 0x7c, 0xc3};
	static const struct {
		enum hs_pyfunc func;
		const uint8_t *code;
		size_t len;
	} funcs[] = {
		{HS_FUNC_THREAD_NEXT, ts_next, sizeof(ts_next)},
		{HS_FUNC_LIST_SIZE, list_size, sizeof(list_size)},
		{HS_FUNC_TUPLE_SIZE, tuple_size, sizeof(tuple_size)},
		{HS_FUNC_GC_IS_ENABLED, gc, sizeof(gc)},
	};
	struct hs_image *img = hs_image_new(0);
	struct hs_pyelf *elf = calloc(1, sizeof(*elf));
	struct hs_check_list *list = calloc(1, sizeof(*list));
	struct hs_layout l, good;
	const struct hs_check *c;
	int err;

	elf->major = 3;
	elf->minor = 12;
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		void *copy = malloc(funcs[i].len);

		memcpy(copy, funcs[i].code, funcs[i].len);
		hs_image_add(img, CODE + 0x100 * i, copy, funcs[i].len);
		elf->func[funcs[i].func] = CODE + 0x100 * i;
		elf->func_size[funcs[i].func] = funcs[i].len;
	}
	hs_image_seal(img);
	hs_layout_init(&good);
	good.off[HS_F_TS_NEXT] = 8;
	good.off[HS_F_VAR_SIZE] = 16;
	good.off[HS_F_IS_GC] = 0x70;
	good.off[HS_F_GCS_ENABLED] = 0xc;

	/* PyTuple_Size disagrees with a field PyList_Size already confirmed */
	l = good;
	l.off[HS_F_TS_NEXT] = 24;
	err = hs_codecheck_run(hs_image_memsrc(img), elf, &l, true, list);
	ok(err == HS_ENOLAYOUT && strstr(hs_errmsg(), "PyTuple_Size"),
	   "run: the second statement about ob_size is refused (%s)", err ? hs_errmsg() : "ok");
	c = find(list, "PyThreadState_Next");
	ok(c && c->status == HS_CHECK_CORRECTED && c->expected == 24 && c->derived == 8 &&
		   l.off[HS_F_TS_NEXT] == 8,
	   "run: a wrong single field is corrected");
	c = find(list, "PyList_Size");
	ok(c && c->status == HS_CHECK_OK, "run: PyList_Size ok");
	c = find(list, "PyTuple_Size");
	ok(c && c->status == HS_CHECK_MISMATCH && l.off[HS_F_VAR_SIZE] == 16,
	   "run: PyTuple_Size is a mismatch and changes nothing");
	c = find(list, "PyGC_IsEnabled");
	ok(c && c->status == HS_CHECK_OK && c->derived == 0x7c &&
		   !strcmp(c->what, "PyInterpreterState.gc + _gc_runtime_state.enabled"),
	   "run: sum check ok (%s)", c ? c->what : "none");
	c = find(list, "PyThreadState_Next");
	ok(c && !strcmp(c->what, "PyThreadState.next"), "run: field named %s", c ? c->what : "?");
	c = find(list, "PyDict_Size");
	ok(c && c->status == HS_CHECK_UNAVAILABLE, "run: absent field and function: unavailable");
	c = find(list, "PyInterpreterState_Head");
	ok(c && c->status == HS_CHECK_UNAVAILABLE, "run: absent function: unavailable");
	ok(!find(list, "PyThreadState_GetDict"), "run: checks for other versions are not run");

	/* an absent field is unavailable even when the code states it */
	l = good;
	l.off[HS_F_TS_NEXT] = HS_ABSENT;
	list->count = 0;
	hs_codecheck_run(hs_image_memsrc(img), elf, &l, true, list);
	c = find(list, "PyThreadState_Next");
	ok(c && c->status == HS_CHECK_UNAVAILABLE && l.off[HS_F_TS_NEXT] == HS_ABSENT,
	   "run: absent field stays absent");

	/* a derived offset outside its struct is not taken */
	l = good;
	l.off[HS_F_TS_NEXT] = 0;
	l.size[HS_S_TSTATE] = 8;
	list->count = 0;
	err = hs_codecheck_run(hs_image_memsrc(img), elf, &l, true, list);
	c = find(list, "PyThreadState_Next");
	ok(err == HS_ENOLAYOUT && c && c->status == HS_CHECK_MISMATCH && l.off[HS_F_TS_NEXT] == 0,
	   "run: no correction outside sizeof(PyThreadState)");

	/* the sum disagrees: refused even when corrections are allowed */
	l = good;
	l.off[HS_F_GCS_ENABLED] = 0x8;
	list->count = 0;
	err = hs_codecheck_run(hs_image_memsrc(img), elf, &l, true, list);
	c = find(list, "PyGC_IsEnabled");
	ok(err == HS_ENOLAYOUT && c && c->status == HS_CHECK_MISMATCH &&
		   l.off[HS_F_GCS_ENABLED] == 0x8 && l.off[HS_F_IS_GC] == 0x70,
	   "run: a wrong sum is a mismatch");
	hs_memsrc_free(hs_image_memsrc(img));
	free(elf);
	free(list);
}

/* --- real interpreters, read live ------------------------------------ */

#define SID "/var/cache/heapscope/chroots/sid"

enum dwarf_from {
	DW_SELF,     /* the ELF holding _PyRuntime has DWARF (pyenv's libpython) */
	DW_BUILD_ID, /* <root>/usr/lib/debug/.build-id/xx/yyy.debug */
	DW_REFERENCE /* no DWARF for this build: a same-version layout as a stand-in */
};

struct target {
	const char *name;
	const char *root; /* chroot, or NULL */
	const char *exe;  /* inside root */
	int minor;
	enum dwarf_from dwarf;
	const char *reference;
};

static const struct target targets[] = {
	{"pyenv 3.8", NULL, "/root/.pyenv/versions/3.8.18/bin/python3", 8, DW_SELF, NULL},
	{"pyenv 3.9", NULL, "/root/.pyenv/versions/3.9.18/bin/python3", 9, DW_SELF, NULL},
	{"pyenv 3.10", NULL, "/root/.pyenv/versions/3.10.13/bin/python3", 10, DW_SELF, NULL},
	{"pyenv 3.11", NULL, "/root/.pyenv/versions/3.11.7/bin/python3", 11, DW_SELF, NULL},
	{"pyenv 3.12", NULL, "/root/.pyenv/versions/3.12.1/bin/python3", 12, DW_SELF, NULL},
	{"pyenv 3.13", NULL, "/root/.pyenv/versions/3.13.0/bin/python3", 13, DW_SELF, NULL},
	{"debian 3.11", NULL, "/usr/bin/python3.11", 11, DW_REFERENCE,
	 "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"},
	{"sid 3.13", SID, "/usr/bin/python3.13", 13, DW_BUILD_ID, NULL},
	{"sid 3.14", SID, "/usr/bin/python3.14", 14, DW_BUILD_ID, NULL},
	{"sid 3.15", SID, "/usr/bin/python3.15", 15, DW_BUILD_ID, NULL},
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

struct child {
	pid_t pid;
	int in, out; /* its stdin (closing it lets it exit) and stdout */
};

static struct child children[NTARGETS];

static bool available(const struct target *t)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", t->root ? t->root : "", t->exe);
	return access(path, X_OK) == 0 && (!t->root || geteuid() == 0) &&
	       (t->dwarf != DW_REFERENCE || access(t->reference, R_OK) == 0);
}

/* Start the interpreter; return once it has printed "ready" (the loader
 * has relocated it: the GOT is final). */
static int spawn(const struct target *t, struct child *c)
{
	int in[2], out[2];
	char buf[16] = "";
	struct pollfd pfd;
	ssize_t n;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (t->root && (chroot(t->root) < 0 || chdir("/") < 0))
			_exit(127);
		execl(t->exe, t->exe, "-c", "import sys; print('ready', flush=True); sys.stdin.read()",
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	pfd = (struct pollfd){.fd = out[0], .events = POLLIN};
	n = poll(&pfd, 1, 20000) == 1 ? read(out[0], buf, sizeof(buf) - 1) : -1;
	c->out = out[0]; /* kept open: a write to a closed pipe would kill it */
	return n > 0 && strncmp(buf, "ready", 5) == 0 ? 0 : -1;
}

static void reap(struct child *c)
{
	if (c->pid <= 0)
		return;
	close(c->in);
	close(c->out);
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	c->pid = 0;
}

static int load_layout(const struct target *t, pid_t pid, const struct hs_pyelf *elf,
		       struct hs_layout *layout, char *from, size_t fromlen)
{
	int fd, err;

	if (t->dwarf == DW_SELF)
		hs_procfs_path(pid, elf->path, from, fromlen);
	else if (t->dwarf == DW_BUILD_ID)
		snprintf(from, fromlen, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", t->root,
			 elf->build_id, elf->build_id + 2);
	else
		snprintf(from, fromlen, "%s", t->reference);
	fd = open(from, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hs_error(HS_EIO, "cannot open %s: %s", from, strerror(errno));
	hs_layout_init(layout);
	err = hs_dwarf_load_layout(fd, from, layout);
	close(fd);
	return err;
}

static const struct hs_check *find(const struct hs_check_list *l, const char *source)
{
	for (unsigned i = 0; i < l->count; i++)
		if (strcmp(l->items[i].source, source) == 0)
			return &l->items[i];
	return NULL;
}

/* Checks with no other way to be verified: each must derive a value. */
static const char *const key_checks[] = {
	"PyInterpreterState_Head", "PyInterpreterState_Next", "PyInterpreterState_ThreadHead",
	"PyThreadState_Next", "PyGC_IsEnabled", "PyImport_GetModuleDict",
};

static void corrupt_tests(const struct target *t, struct hs_memsrc *mem,
			  const struct hs_pyelf *elf, const struct hs_layout *good)
{
	struct hs_layout l = *good;
	struct hs_check_list list = {0};
	const struct hs_check *c;
	int err;

	/* a single field: corrected back when allowed */
	l.off[HS_F_TS_NEXT] += 8;
	err = hs_codecheck_run(mem, elf, &l, true, &list);
	c = find(&list, "PyThreadState_Next");
	ok(err == 0 && c && c->status == HS_CHECK_CORRECTED &&
		   l.off[HS_F_TS_NEXT] == good->off[HS_F_TS_NEXT],
	   "%s: TS_NEXT+8 corrected back to %d (%s)", t->name, good->off[HS_F_TS_NEXT],
	   err ? hs_errmsg() : c ? hs_check_status_name(c->status) : "no check");
	ok(!memcmp(l.off, good->off, sizeof(l.off)), "%s: nothing else changed", t->name);

	/* ... and refused when not */
	l = *good;
	l.off[HS_F_TS_NEXT] += 8;
	list.count = 0;
	err = hs_codecheck_run(mem, elf, &l, false, &list);
	c = find(&list, "PyThreadState_Next");
	ok(err == HS_ENOLAYOUT && c && c->status == HS_CHECK_MISMATCH &&
		   l.off[HS_F_TS_NEXT] == good->off[HS_F_TS_NEXT] + 8 &&
		   strstr(hs_errmsg(), "PyThreadState_Next"),
	   "%s: TS_NEXT+8 without correction is a mismatch (%s)", t->name,
	   err ? hs_errmsg() : "no error");

	if (t->minor < 10)
		return;
	/* a sum: cannot be pinned on one field, so refused even when allowed */
	l = *good;
	l.off[HS_F_IS_GC] += 8;
	list.count = 0;
	err = hs_codecheck_run(mem, elf, &l, true, &list);
	c = find(&list, "PyGC_IsEnabled");
	ok(err == HS_ENOLAYOUT && c && c->status == HS_CHECK_MISMATCH &&
		   l.off[HS_F_IS_GC] == good->off[HS_F_IS_GC] + 8,
	   "%s: IS_GC+8 is a mismatch, not corrected (%s)", t->name,
	   err ? hs_errmsg() : "no error");
}

static void test_target(const struct target *t, struct child *c)
{
	struct hs_maps maps = {0};
	struct hs_files files;
	struct hs_pyelf elf;
	struct hs_layout layout;
	struct hs_check_list list = {0};
	struct hs_memsrc *mem;
	char from[600];
	unsigned good = 0;
	int err;

	if (!available(t)) {
		ok(true, "# SKIP %s: %s%s%s%s not available", t->name, t->root ? t->root : "", t->exe,
		   t->reference ? " or " : "", t->reference ? t->reference : "");
		return;
	}
	err = spawn(t, c);
	if (!ok(err == 0, "%s: started (pid %d)", t->name, (int)c->pid))
		return;
	hs_files_live(c->pid, &files);
	err = hs_maps_read(c->pid, &maps);
	if (!err)
		err = hs_pyelf_find(&files, &maps, &elf);
	hs_maps_release(&maps);
	if (!ok(err == 0 && elf.minor == t->minor, "%s: found %s (%s)", t->name,
		err ? "nothing" : elf.version, err ? hs_errmsg() : elf.path))
		return;
	err = load_layout(t, c->pid, &elf, &layout, from, sizeof(from));
	if (!ok(err == 0, "%s: DWARF layout from %s (%s)", t->name, from, err ? hs_errmsg() : "ok"))
		return;
	mem = hs_live_memsrc_new(c->pid);
	err = hs_codecheck_run(mem, &elf, &layout, false, &list);
	for (unsigned i = 0; i < list.count; i++) {
		const struct hs_check *k = &list.items[i];

		diag("%-30s %-48s layout %6" PRId64 " code %6" PRId64 "  %s", k->source, k->what,
		     k->expected, k->derived, hs_check_status_name(k->status));
		good += k->status == HS_CHECK_OK;
	}
	ok(err == 0, "%s: no mismatch (%s)", t->name, err ? hs_errmsg() : "ok");
	if (t->dwarf == DW_REFERENCE)
		ok(hs_checks_count(&list, HS_CHECK_MISMATCH) == 0 &&
			   hs_checks_count(&list, HS_CHECK_CORRECTED) == 0 && good > 0,
		   "%s: %u of %u checks ok, none disagrees", t->name, good, list.count);
	else
		ok(good == list.count && good > 0, "%s: all %u checks ok (%u)", t->name,
		   list.count, good);
	for (size_t i = 0; i < sizeof(key_checks) / sizeof(key_checks[0]); i++) {
		const struct hs_check *k = find(&list, key_checks[i]);

		if (k || t->minor >= 10 || strcmp(key_checks[i], "PyGC_IsEnabled") != 0)
			ok(k && k->status == HS_CHECK_OK, "%s: %s derives %s = %" PRId64, t->name,
			   key_checks[i], k ? k->what : "?", k ? k->derived : -1);
	}
	corrupt_tests(t, mem, &elf, &layout);
	hs_memsrc_free(mem);
}

int main(void)
{
	test_evaluator();
	test_run();
	for (size_t i = 0; i < NTARGETS; i++)
		test_target(&targets[i], &children[i]);
	for (size_t i = 0; i < NTARGETS; i++)
		reap(&children[i]);
	return done();
}

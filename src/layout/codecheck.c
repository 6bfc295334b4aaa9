#include "heapscope/codecheck.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapscope/error.h"

#define MAX_CODE 512  /* bytes of one function read */
#define MAX_PATHS 16  /* paths begun per function */
#define MAX_STEPS 64  /* instructions per path (a branch keeps its count) */
#define MAX_NODES 256 /* loads per function */
#define MAX_SLOTS 16  /* stack slots remembered per path */
#define MAX_CHAIN 8   /* loads followed back by HS_CC_CURRENT_FIELD */
#define NGPR 16

/* general registers in encoding order */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11 };

/*
 * A symbolic value is base + add.  A base >= 0 is the value loaded by
 * node[base]; the others are below.
 */
enum {
	B_UNKNOWN = -1,
	B_CONST = -2, /* add alone: a number or an address */
	B_ARG0 = -3,  /* rdi at entry */
	B_ARG1 = -4,  /* rsi at entry */
	B_CALL = -5,  /* what a call returned */
	B_TLS = -6,   /* the thread pointer, or the address of a thread-local */
	B_STACK = -7, /* rsp at entry */
};

struct val {
	int32_t base;
	int64_t add;
};

/* LOAD(addr + index*scale), width bytes; scale 0: no index */
struct load {
	struct val addr, index;
	uint8_t scale, width;
};

struct slot {
	int64_t off; /* from rsp at entry */
	struct val v;
};

struct path {
	uint64_t pc;
	unsigned steps;
	struct val reg[NGPR];
	struct slot slot[MAX_SLOTS];
	unsigned nslots;
	int zero; /* register that is 0 exactly when ZF is set, or -1 */
};

struct eval {
	struct hs_memsrc *mem;
	const struct hs_cc_env *env;
	uint64_t start, end, func_end; /* read [start, end) of [start, func_end) */
	unsigned char code[MAX_CODE];
	csh cs;
	cs_insn *insn;
	struct load node[MAX_NODES];
	unsigned nnodes;
	struct path todo[MAX_PATHS];
	unsigned ntodo, paths;
	struct val ret[MAX_PATHS];
	unsigned nret;
	const char *incomplete; /* why some path was not followed to its end */
};

static const struct val UNKNOWN = {B_UNKNOWN, 0};

static struct val cval(int64_t c)
{
	return (struct val){B_CONST, c};
}

/* Machine arithmetic wraps; C's signed arithmetic must not overflow. */
static int64_t wrap(uint64_t v)
{
	return (int64_t)v;
}

/* --- registers ------------------------------------------------------ */

static const struct {
	x86_reg reg;
	uint8_t idx, width; /* width 0: ah, bh, ch, dh */
} gprs[] = {
	{X86_REG_RAX, RAX, 8}, {X86_REG_EAX, RAX, 4}, {X86_REG_AX, RAX, 2}, {X86_REG_AL, RAX, 1}, {X86_REG_AH, RAX, 0},
	{X86_REG_RCX, RCX, 8}, {X86_REG_ECX, RCX, 4}, {X86_REG_CX, RCX, 2}, {X86_REG_CL, RCX, 1}, {X86_REG_CH, RCX, 0},
	{X86_REG_RDX, RDX, 8}, {X86_REG_EDX, RDX, 4}, {X86_REG_DX, RDX, 2}, {X86_REG_DL, RDX, 1}, {X86_REG_DH, RDX, 0},
	{X86_REG_RBX, RBX, 8}, {X86_REG_EBX, RBX, 4}, {X86_REG_BX, RBX, 2}, {X86_REG_BL, RBX, 1}, {X86_REG_BH, RBX, 0},
	{X86_REG_RSP, RSP, 8}, {X86_REG_ESP, RSP, 4}, {X86_REG_SP, RSP, 2}, {X86_REG_SPL, RSP, 1},
	{X86_REG_RBP, RBP, 8}, {X86_REG_EBP, RBP, 4}, {X86_REG_BP, RBP, 2}, {X86_REG_BPL, RBP, 1},
	{X86_REG_RSI, RSI, 8}, {X86_REG_ESI, RSI, 4}, {X86_REG_SI, RSI, 2}, {X86_REG_SIL, RSI, 1},
	{X86_REG_RDI, RDI, 8}, {X86_REG_EDI, RDI, 4}, {X86_REG_DI, RDI, 2}, {X86_REG_DIL, RDI, 1},
	{X86_REG_R8, 8, 8}, {X86_REG_R8D, 8, 4}, {X86_REG_R8W, 8, 2}, {X86_REG_R8B, 8, 1},
	{X86_REG_R9, 9, 8}, {X86_REG_R9D, 9, 4}, {X86_REG_R9W, 9, 2}, {X86_REG_R9B, 9, 1},
	{X86_REG_R10, 10, 8}, {X86_REG_R10D, 10, 4}, {X86_REG_R10W, 10, 2}, {X86_REG_R10B, 10, 1},
	{X86_REG_R11, 11, 8}, {X86_REG_R11D, 11, 4}, {X86_REG_R11W, 11, 2}, {X86_REG_R11B, 11, 1},
	{X86_REG_R12, 12, 8}, {X86_REG_R12D, 12, 4}, {X86_REG_R12W, 12, 2}, {X86_REG_R12B, 12, 1},
	{X86_REG_R13, 13, 8}, {X86_REG_R13D, 13, 4}, {X86_REG_R13W, 13, 2}, {X86_REG_R13B, 13, 1},
	{X86_REG_R14, 14, 8}, {X86_REG_R14D, 14, 4}, {X86_REG_R14W, 14, 2}, {X86_REG_R14B, 14, 1},
	{X86_REG_R15, 15, 8}, {X86_REG_R15D, 15, 4}, {X86_REG_R15W, 15, 2}, {X86_REG_R15B, 15, 1},
};

/* Index of a general register, or -1 (rip, segment, vector registers). */
static int gpr(unsigned reg, unsigned *width)
{
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		if (gprs[i].reg == reg) {
			*width = gprs[i].width;
			return gprs[i].idx;
		}
	return -1;
}

/* The low `width` bytes of v, zero-extended, when still representable. */
static struct val narrow(const struct eval *ev, struct val v, unsigned width)
{
	if (width >= 8)
		return v;
	if (v.base == B_CONST)
		return cval(width == 4 ? (int64_t)(uint32_t)v.add
			    : width == 2 ? (int64_t)(uint16_t)v.add
			    : width == 1 ? (int64_t)(uint8_t)v.add : 0);
	/* a narrow load read into a wider register is still that field */
	if (v.base >= 0 && v.add == 0 && width && ev->node[v.base].width <= width)
		return v;
	return UNKNOWN;
}

static struct val get_reg(const struct eval *ev, const struct path *p, unsigned reg)
{
	unsigned width;
	int i = gpr(reg, &width);

	return i < 0 || !width ? UNKNOWN : narrow(ev, p->reg[i], width);
}

/* A 32-bit write zero-extends; 8- and 16-bit writes merge (not tracked). */
static void set_reg(const struct eval *ev, struct path *p, unsigned reg, struct val v)
{
	unsigned width;
	int i = gpr(reg, &width);

	if (i >= 0)
		p->reg[i] = width == 8 ? v : width == 4 ? narrow(ev, v, 4) : UNKNOWN;
}

/* --- the stack ------------------------------------------------------ */

static void slot_drop(struct path *p, int64_t off, unsigned len)
{
	for (unsigned i = 0; i < p->nslots;)
		if ((uint64_t)p->slot[i].off - (uint64_t)off < len ||
		    (uint64_t)off - (uint64_t)p->slot[i].off < 8)
			p->slot[i] = p->slot[--p->nslots];
		else
			i++;
}

static void slot_set(struct path *p, int64_t off, struct val v)
{
	slot_drop(p, off, 8);
	if (p->nslots < MAX_SLOTS) /* else forgotten: a later load is UNKNOWN */
		p->slot[p->nslots++] = (struct slot){off, v};
}

static struct val slot_get(const struct path *p, int64_t off)
{
	for (unsigned i = 0; i < p->nslots; i++)
		if (p->slot[i].off == off)
			return p->slot[i].v;
	return UNKNOWN;
}

static void push(struct path *p, struct val v)
{
	if (p->reg[RSP].base != B_STACK) {
		p->reg[RSP] = UNKNOWN;
		return;
	}
	p->reg[RSP].add = wrap((uint64_t)p->reg[RSP].add - 8);
	slot_set(p, p->reg[RSP].add, v);
}

static struct val pop(struct path *p)
{
	struct val v;

	if (p->reg[RSP].base != B_STACK)
		return UNKNOWN;
	v = slot_get(p, p->reg[RSP].add);
	p->reg[RSP].add = wrap((uint64_t)p->reg[RSP].add + 8);
	return v;
}

/* --- memory operands ------------------------------------------------ */

static bool in_relro(const struct eval *ev, int64_t a, unsigned len)
{
	uint64_t u = (uint64_t)a;

	return u >= ev->env->relro_start && u < ev->env->relro_end &&
	       ev->env->relro_end - u >= len;
}

static bool is_tls_segment(const x86_op_mem *m)
{
	return m->segment == X86_REG_FS || m->segment == X86_REG_GS;
}

/* base + disp, with a symbolic index (index.base != B_CONST) kept apart */
static struct val address(const struct eval *ev, const struct path *p, const cs_insn *in,
			  const x86_op_mem *m, struct val *index, unsigned *scale)
{
	struct val b;

	*index = cval(0);
	*scale = 0;
	if (m->base == X86_REG_RIP)
		b = cval((int64_t)(in->address + in->size));
	else if (m->base == X86_REG_INVALID)
		b = cval(0);
	else
		b = get_reg(ev, p, m->base);
	if (b.base == B_UNKNOWN)
		return UNKNOWN;
	if (m->index != X86_REG_INVALID) {
		struct val i = get_reg(ev, p, m->index);

		if (i.base == B_UNKNOWN || m->scale < 1 || m->scale > 8)
			return UNKNOWN;
		if (i.base == B_CONST) {
			b.add = wrap((uint64_t)b.add + (uint64_t)i.add * (uint64_t)m->scale);
		} else {
			*index = i;
			*scale = (unsigned)m->scale;
		}
	}
	b.add = wrap((uint64_t)b.add + (uint64_t)m->disp);
	return b;
}

static struct val new_load(struct eval *ev, struct val addr, struct val index, unsigned scale,
			   unsigned width)
{
	if (ev->nnodes >= MAX_NODES)
		return UNKNOWN;
	ev->node[ev->nnodes] = (struct load){addr, index, (uint8_t)scale, (uint8_t)width};
	return (struct val){(int32_t)ev->nnodes++, 0};
}

static struct val load(struct eval *ev, const struct path *p, const cs_insn *in,
		       const x86_op_mem *m, unsigned width)
{
	unsigned scale;
	struct val index, a = address(ev, p, in, m, &index, &scale);
	uint64_t word;

	if (a.base == B_UNKNOWN)
		return UNKNOWN;
	if (is_tls_segment(m)) {
		/* fs:[c] reads a thread-local (fs:[reg] too: reg holds c, from the GOT) */
		if (a.base != B_CONST || scale)
			return UNKNOWN;
		return new_load(ev, (struct val){B_TLS, a.add}, index, 0, width);
	}
	if (a.base == B_STACK)
		return scale ? UNKNOWN : narrow(ev, slot_get(p, a.add), width);
	if (a.base == B_CONST && !scale && width == 8 && in_relro(ev, a.add, 8))
		return hs_read_u64(ev->mem, (uint64_t)a.add, &word) == 0 ? cval((int64_t)word) : UNKNOWN;
	return new_load(ev, a, index, scale, width);
}

/* A write to memory: only the stack is remembered. */
static void store(const struct eval *ev, struct path *p, const cs_insn *in, const cs_x86_op *op,
		  struct val v)
{
	unsigned scale;
	struct val index, a = address(ev, p, in, &op->mem, &index, &scale);

	if (a.base != B_STACK || is_tls_segment(&op->mem))
		return;
	if (scale) /* somewhere on the stack: forget it all */
		p->nslots = 0;
	else if (op->size == 8)
		slot_set(p, a.add, v);
	else
		slot_drop(p, a.add, op->size);
}

static struct val operand(struct eval *ev, const struct path *p, const cs_insn *in,
			  const cs_x86_op *op)
{
	switch (op->type) {
	case X86_OP_IMM: return cval(op->imm);
	case X86_OP_REG: return get_reg(ev, p, op->reg);
	case X86_OP_MEM: return load(ev, p, in, &op->mem, op->size);
	default: return UNKNOWN;
	}
}

/* --- arithmetic ----------------------------------------------------- */

static struct val arith(unsigned id, struct val a, struct val b, bool same_reg)
{
	if ((id == X86_INS_XOR || id == X86_INS_SUB) && same_reg)
		return cval(0);
	if (a.base == B_UNKNOWN || b.base == B_UNKNOWN)
		return UNKNOWN;
	switch (id) {
	case X86_INS_ADD:
		if (b.base == B_CONST)
			return (struct val){a.base, wrap((uint64_t)a.add + (uint64_t)b.add)};
		if (a.base == B_CONST)
			return (struct val){b.base, wrap((uint64_t)a.add + (uint64_t)b.add)};
		return UNKNOWN;
	case X86_INS_SUB:
		if (b.base == B_CONST || b.base == a.base)
			return (struct val){b.base == B_CONST ? a.base : B_CONST,
					    wrap((uint64_t)a.add - (uint64_t)b.add)};
		return UNKNOWN;
	case X86_INS_OR:
		if (b.base == B_CONST && b.add == -1)
			return b;
		break;
	case X86_INS_AND:
		if (b.base == B_CONST && b.add == 0)
			return b;
		/* clearing tag bits (3.14's _PyStackRef): still the loaded pointer */
		if (a.base >= 0 && a.add == 0 && b.base == B_CONST && b.add >= -8 && b.add <= -2 &&
		    !((-b.add) & (-b.add - 1)))
			return a;
		break;
	}
	if (a.base != B_CONST || b.base != B_CONST)
		return UNKNOWN;
	switch (id) {
	case X86_INS_OR: return cval(a.add | b.add);
	case X86_INS_AND: return cval(a.add & b.add);
	case X86_INS_XOR: return cval(a.add ^ b.add);
	case X86_INS_SHL: return cval((int64_t)((uint64_t)a.add << (b.add & 63)));
	case X86_INS_SHR: return cval((int64_t)((uint64_t)a.add >> (b.add & 63)));
	case X86_INS_SAR: return cval(a.add >> (b.add & 63));
	default: return UNKNOWN;
	}
}

static struct val extend(struct val v, unsigned from, bool sign)
{
	if (v.base != B_CONST || !sign || from >= 8)
		return v;
	if (from == 4)
		return cval((int32_t)v.add);
	if (from == 2)
		return cval((int16_t)v.add);
	return cval((int8_t)v.add);
}

/* --- paths ---------------------------------------------------------- */

static bool in_function(const struct eval *ev, uint64_t pc)
{
	return pc >= ev->start && pc < ev->func_end;
}

/* Follow `p` from `target` later.  Leaving the function (tail call, code
 * split off as cold) ends that side. */
static void fork_at(struct eval *ev, const struct path *p, uint64_t target)
{
	if (!in_function(ev, target))
		return;
	if (ev->paths >= MAX_PATHS || ev->ntodo >= MAX_PATHS) {
		ev->incomplete = "too many paths";
		return;
	}
	ev->todo[ev->ntodo] = *p;
	ev->todo[ev->ntodo++].pc = target;
	ev->paths++;
}

static void call(struct eval *ev, struct path *p, const cs_insn *in)
{
	const cs_x86_op *op = &in->detail->x86.operands[0];
	struct val rdi = p->reg[RDI];
	static const int clobbered[] = {RAX, RCX, RDX, RSI, RDI, R8, R9, R10, R11};

	for (size_t i = 0; i < sizeof(clobbered) / sizeof(clobbered[0]); i++)
		p->reg[clobbered[i]] = UNKNOWN;
	/* __tls_get_addr is the function called with a pointer into the GOT
	 * (its tls_index): it returns the address of a thread-local */
	if (op->type == X86_OP_IMM && rdi.base == B_CONST && in_relro(ev, rdi.add, 16))
		p->reg[RAX] = (struct val){B_TLS, 0};
	else
		p->reg[RAX] = (struct val){B_CALL, 0};
	if (p->reg[RSP].base != B_STACK)
		return;
	for (unsigned i = 0; i < p->nslots;) { /* the callee's frame is gone */
		if (p->slot[i].off < p->reg[RSP].add)
			p->slot[i] = p->slot[--p->nslots];
		else
			i++;
	}
}

/* An instruction not modelled: whatever it writes becomes UNKNOWN. */
static bool clobber(struct eval *ev, struct path *p, const cs_insn *in)
{
	const cs_detail *d = in->detail;
	const cs_x86 *x = &d->x86;

	for (unsigned g = 0; g < d->groups_count; g++)
		switch (d->groups[g]) {
		case CS_GRP_JUMP: case CS_GRP_CALL: case CS_GRP_RET:
		case CS_GRP_INT: case CS_GRP_IRET:
			ev->incomplete = "control transfer not understood";
			return false;
		}
	for (unsigned i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		bool writes = (op->access & CS_AC_WRITE) || (i == 0 && !op->access);

		if (!writes)
			continue;
		if (op->type == X86_OP_REG)
			set_reg(ev, p, op->reg, UNKNOWN);
		else if (op->type == X86_OP_MEM)
			store(ev, p, in, op, UNKNOWN);
	}
	for (unsigned i = 0; i < d->regs_write_count; i++)
		set_reg(ev, p, d->regs_write[i], UNKNOWN);
	return true;
}

static bool is_cmov(unsigned id)
{
	switch (id) {
	case X86_INS_CMOVA: case X86_INS_CMOVAE: case X86_INS_CMOVB: case X86_INS_CMOVBE:
	case X86_INS_CMOVE: case X86_INS_CMOVG: case X86_INS_CMOVGE: case X86_INS_CMOVL:
	case X86_INS_CMOVLE: case X86_INS_CMOVNE: case X86_INS_CMOVNO: case X86_INS_CMOVNP:
	case X86_INS_CMOVNS: case X86_INS_CMOVO: case X86_INS_CMOVP: case X86_INS_CMOVS:
		return true;
	}
	return false;
}

static bool is_jump(const cs_insn *in)
{
	for (unsigned g = 0; g < in->detail->groups_count; g++)
		if (in->detail->groups[g] == CS_GRP_JUMP)
			return true;
	return false;
}

/* `test r,r` or `cmp r,0`: the register is 0 exactly when ZF is set */
static int zero_test(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *op = x->operands;
	unsigned width;
	int r;

	if (x->op_count != 2 || op[0].type != X86_OP_REG || (r = gpr(op[0].reg, &width)) < 0 ||
	    width != 8)
		return -1;
	if (in->id == X86_INS_TEST && op[1].type == X86_OP_REG && op[1].reg == op[0].reg)
		return r;
	if (in->id == X86_INS_CMP && op[1].type == X86_OP_IMM && op[1].imm == 0)
		return r;
	return -1;
}

/* A conditional branch: both ways, knowing a tested register is 0 on one. */
static void branch(struct eval *ev, struct path *p, const cs_insn *in, uint64_t target, int zero)
{
	struct path taken = *p;

	if (zero >= 0 && in->id == X86_INS_JE)
		taken.reg[zero] = cval(0);
	else if (zero >= 0 && in->id == X86_INS_JNE)
		p->reg[zero] = cval(0);
	fork_at(ev, &taken, target);
}

/* Execute one instruction on p; false when the path ends here. */
static bool step(struct eval *ev, struct path *p, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *op = x->operands;
	unsigned n = x->op_count;
	int zero = p->zero;

	p->pc = in->address + in->size;
	p->zero = -1;
	switch (in->id) {
	case X86_INS_TEST: case X86_INS_CMP:
		p->zero = zero_test(in);
		return true;
	case X86_INS_NOP: case X86_INS_ENDBR64: case X86_INS_BT: case X86_INS_PAUSE:
		return true; /* branches are followed both ways */
	case X86_INS_MOV: case X86_INS_MOVABS:
		if (n == 2 && op[0].type == X86_OP_REG) {
			set_reg(ev, p, op[0].reg, operand(ev, p, in, &op[1]));
			return true;
		}
		if (n == 2 && op[0].type == X86_OP_MEM) {
			store(ev, p, in, &op[0], operand(ev, p, in, &op[1]));
			return true;
		}
		break;
	case X86_INS_MOVZX: case X86_INS_MOVSX: case X86_INS_MOVSXD:
		if (n == 2 && op[0].type == X86_OP_REG) {
			struct val v = operand(ev, p, in, &op[1]);

			set_reg(ev, p, op[0].reg, extend(v, op[1].size, in->id != X86_INS_MOVZX));
			return true;
		}
		break;
	case X86_INS_LEA:
		if (n == 2 && op[0].type == X86_OP_REG && op[1].type == X86_OP_MEM) {
			unsigned scale;
			struct val index, a = address(ev, p, in, &op[1].mem, &index, &scale);

			set_reg(ev, p, op[0].reg, scale || is_tls_segment(&op[1].mem) ? UNKNOWN : a);
			return true;
		}
		break;
	case X86_INS_ADD: case X86_INS_SUB: case X86_INS_AND: case X86_INS_OR:
	case X86_INS_XOR: case X86_INS_SHL: case X86_INS_SHR: case X86_INS_SAR:
		if (n == 2 && op[0].type == X86_OP_REG) {
			bool same = op[1].type == X86_OP_REG && op[1].reg == op[0].reg;

			set_reg(ev, p, op[0].reg,
				arith(in->id, get_reg(ev, p, op[0].reg), operand(ev, p, in, &op[1]), same));
			return true;
		}
		break;
	case X86_INS_INC: case X86_INS_DEC:
		if (n == 1 && op[0].type == X86_OP_REG) {
			set_reg(ev, p, op[0].reg, arith(X86_INS_ADD, get_reg(ev, p, op[0].reg),
						       cval(in->id == X86_INS_INC ? 1 : -1), false));
			return true;
		}
		break;
	case X86_INS_XCHG:
		if (n == 2 && op[0].type == X86_OP_REG && op[1].type == X86_OP_REG) {
			struct val a = get_reg(ev, p, op[0].reg), b = get_reg(ev, p, op[1].reg);

			set_reg(ev, p, op[0].reg, b);
			set_reg(ev, p, op[1].reg, a);
			return true;
		}
		break;
	case X86_INS_PUSH:
		if (n == 1 && op[0].size == 8) {
			push(p, operand(ev, p, in, &op[0]));
			return true;
		}
		break;
	case X86_INS_POP:
		if (n == 1 && op[0].type == X86_OP_REG) {
			set_reg(ev, p, op[0].reg, pop(p));
			return true;
		}
		break;
	case X86_INS_LEAVE:
		p->reg[RSP] = p->reg[RBP];
		p->reg[RBP] = pop(p);
		return true;
	case X86_INS_CALL:
		call(ev, p, in);
		return true;
	case X86_INS_RET:
		if (ev->nret < MAX_PATHS) /* always: each path returns once */
			ev->ret[ev->nret++] = p->reg[RAX];
		return false;
	case X86_INS_JMP:
		if (n == 1 && op[0].type == X86_OP_IMM) {
			p->pc = (uint64_t)op[0].imm;
			return in_function(ev, p->pc); /* else a tail call */
		}
		/* jmp [rip+GOT] is a tail call; jmp reg a switch we cannot follow */
		if (!(n == 1 && op[0].type == X86_OP_MEM && op[0].mem.base == X86_REG_RIP))
			ev->incomplete = "indirect jump";
		return false;
	case X86_INS_UD2: case X86_INS_HLT: case X86_INS_INT3:
		return false;
	}
	if (is_cmov(in->id) && n == 2 && op[0].type == X86_OP_REG) {
		struct path moved = *p;

		set_reg(ev, &moved, op[0].reg, operand(ev, p, in, &op[1]));
		fork_at(ev, &moved, moved.pc);
		set_reg(ev, p, op[0].reg, get_reg(ev, p, op[0].reg)); /* 32-bit cmov zero-extends */
		return true;
	}
	if (is_jump(in) && n == 1 && op[0].type == X86_OP_IMM && in->id != X86_INS_LOOP &&
	    in->id != X86_INS_LOOPE && in->id != X86_INS_LOOPNE) {
		branch(ev, p, in, (uint64_t)op[0].imm, zero); /* jcc, jrcxz */
		return true;
	}
	return clobber(ev, p, in);
}

static void follow(struct eval *ev, struct path *p)
{
	for (;;) {
		const uint8_t *code;
		size_t left;
		uint64_t addr = p->pc;

		if (!in_function(ev, p->pc))
			return; /* fell off the end after a call that does not return */
		if (p->pc >= ev->end) {
			ev->incomplete = "function only partly readable";
			return;
		}
		if (p->steps++ >= MAX_STEPS) {
			ev->incomplete = "path too long";
			return;
		}
		code = ev->code + (p->pc - ev->start);
		left = (size_t)(ev->end - p->pc);
		if (!cs_disasm_iter(ev->cs, &code, &left, &addr, ev->insn)) {
			ev->incomplete = "bytes that are not an instruction";
			return;
		}
		if (!step(ev, p, ev->insn))
			return;
	}
}

/* --- matching returns against a pattern ------------------------------ */

static const struct load *node_of(const struct eval *ev, struct val v)
{
	return v.base >= 0 && v.add == 0 ? &ev->node[v.base] : NULL;
}

/* 1: v states *d; 0: v says nothing (a constant, a call's result); -1: v
 * is something else, so the function does not fit the pattern */
static int match(const struct eval *ev, enum hs_cc_pattern pattern, struct val v, int64_t *d)
{
	const struct load *n = node_of(ev, v), *m;

	if (v.base == B_CONST || v.base == B_CALL)
		return 0;
	if (!n)
		return -1;
	switch (pattern) {
	case HS_CC_ARG0_FIELD:
		if (n->addr.base != B_ARG0 || n->scale)
			return -1;
		*d = n->addr.add;
		return 1;
	case HS_CC_ARG0_ITEM:
		if (n->addr.base != B_ARG0 || n->scale != 8)
			return -1;
		*d = n->addr.add;
		return 1;
	case HS_CC_ARG0_PTR_ITEM:
		if (n->scale != 8 || !(m = node_of(ev, n->addr)) || m->addr.base != B_ARG0 || m->scale)
			return -1;
		*d = m->addr.add;
		return 1;
	case HS_CC_ARG0_PTR:
	case HS_CC_ARG0_PTR_FIELD:
		if (n->scale || !(m = node_of(ev, (struct val){n->addr.base, 0})) ||
		    m->addr.base != B_ARG0 || m->scale)
			return -1;
		*d = pattern == HS_CC_ARG0_PTR ? m->addr.add : n->addr.add;
		return 1;
	case HS_CC_GLOBAL: {
		uint64_t a = (uint64_t)n->addr.add, g = ev->env->global;

		if (n->addr.base != B_CONST || n->scale || !g || a < g ||
		    a - g >= (ev->env->global_size ? ev->env->global_size : 1u << 20))
			return -1;
		*d = (int64_t)(a - g);
		return 1;
	}
	case HS_CC_CURRENT_FIELD:
		/* n = LOAD(p + d), p itself loaded, back to a thread-local or a global */
		if (n->scale || n->addr.base < 0)
			return -1;
		m = &ev->node[n->addr.base];
		for (int i = 0; i < MAX_CHAIN; i++) {
			if (m->scale)
				return -1;
			if (m->addr.base == B_TLS || m->addr.base == B_CONST) {
				*d = n->addr.add;
				return 1;
			}
			if (m->addr.base < 0)
				return -1;
			m = &ev->node[m->addr.base];
		}
		return -1;
	}
	return -1;
}

static void describe(const struct eval *ev, struct val v, char *buf, size_t len, int depth)
{
	static const char *const names[] = {"?", "", "ARG0", "ARG1", "CALL", "TLS", "STACK"};
	const struct load *n;
	char inner[96], index[112] = "";

	if (v.base < 0) {
		const char *name = names[-v.base - 1];

		if (v.base == B_CONST)
			snprintf(buf, len, "%#" PRIx64, (uint64_t)v.add);
		else if (v.add)
			snprintf(buf, len, "%s%+" PRId64, name, v.add);
		else
			snprintf(buf, len, "%s", name);
		return;
	}
	n = &ev->node[v.base];
	if (depth >= 3) {
		snprintf(inner, sizeof(inner), "...");
	} else {
		describe(ev, n->addr, inner, sizeof(inner), depth + 1);
		if (n->scale) {
			char i[96];

			describe(ev, n->index, i, sizeof(i), depth + 1);
			snprintf(index, sizeof(index), "+%s*%u", i, n->scale);
		}
	}
	snprintf(buf, len, "LOAD%u(%s%s)%s", n->width * 8, inner, index, v.add ? "+..." : "");
}

static const char *pattern_name(enum hs_cc_pattern pattern)
{
	switch (pattern) {
	case HS_CC_ARG0_FIELD: return "LOAD(ARG0+d)";
	case HS_CC_ARG0_ITEM: return "LOAD(ARG0+d+index*8)";
	case HS_CC_ARG0_PTR_ITEM: return "LOAD(LOAD(ARG0+d)+index*8)";
	case HS_CC_ARG0_PTR: return "LOAD(LOAD(ARG0+d)+e)";
	case HS_CC_ARG0_PTR_FIELD: return "LOAD(LOAD(ARG0+e)+d)";
	case HS_CC_GLOBAL: return "LOAD(global+d)";
	case HS_CC_CURRENT_FIELD: return "LOAD(LOAD(thread-local or global ...)+d)";
	}
	return "?";
}

/* Read the function's bytes: all of them, else the longest readable
 * prefix (binary search; the rest makes paths incomplete). */
static int read_code(struct eval *ev, uint64_t addr, uint64_t size)
{
	size_t want = size && size < MAX_CODE ? (size_t)size : MAX_CODE, lo = 0, hi;

	ev->start = addr;
	ev->func_end = addr + (size ? size : MAX_CODE);
	if (hs_memsrc_read(ev->mem, addr, ev->code, want) == 0) {
		ev->end = addr + want;
		return 0;
	}
	for (hi = want; hi - lo > 1;) { /* lo bytes readable, hi not */
		size_t mid = lo + (hi - lo) / 2;

		if (hs_memsrc_read(ev->mem, addr, ev->code, mid) == 0)
			lo = mid;
		else
			hi = mid;
	}
	if (!lo || hs_memsrc_read(ev->mem, addr, ev->code, lo) < 0)
		return hs_error(HS_ENOLAYOUT, "code at %#" PRIx64 " is not readable", addr);
	ev->end = addr + lo;
	return 0;
}

static int evaluate(struct eval *ev)
{
	struct path *first = &ev->todo[0];

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &ev->cs) != CS_ERR_OK)
		return hs_error(HS_ENOMEM, "cannot open capstone");
	cs_option(ev->cs, CS_OPT_DETAIL, CS_OPT_ON);
	if (!(ev->insn = cs_malloc(ev->cs))) {
		cs_close(&ev->cs);
		return hs_error(HS_ENOMEM, "cannot allocate a capstone instruction");
	}
	memset(first, 0, sizeof(*first));
	for (int r = 0; r < NGPR; r++)
		first->reg[r] = UNKNOWN;
	first->reg[RDI] = (struct val){B_ARG0, 0};
	first->reg[RSI] = (struct val){B_ARG1, 0};
	first->reg[RSP] = (struct val){B_STACK, 0};
	first->zero = -1;
	first->pc = ev->start;
	ev->ntodo = ev->paths = 1;
	/* each path begun is taken once: at most MAX_PATHS * MAX_STEPS steps */
	while (ev->ntodo > 0) {
		struct path p = ev->todo[--ev->ntodo];

		follow(ev, &p);
	}
	cs_free(ev->insn, 1);
	cs_close(&ev->cs);
	return 0;
}

int hs_cc_derive(struct hs_memsrc *mem, const struct hs_cc_env *env, uint64_t addr,
		 uint64_t size, enum hs_cc_pattern pattern, int64_t *out)
{
	struct eval *ev = calloc(1, sizeof(*ev));
	char a[160], b[160];
	int64_t d = 0, first = 0;
	int err, found = 0;

	if (!ev)
		return hs_error(HS_ENOMEM, "out of memory");
	ev->mem = mem;
	ev->env = env;
	if ((err = read_code(ev, addr, size)) < 0 || (err = evaluate(ev)) < 0)
		goto out;
	if (ev->incomplete) {
		err = hs_error(HS_ENOLAYOUT, "code at %#" PRIx64 ": %s", addr, ev->incomplete);
		goto out;
	}
	for (unsigned i = 0; i < ev->nret && !err; i++) {
		int m = match(ev, pattern, ev->ret[i], &d);

		describe(ev, ev->ret[i], a, sizeof(a), 0);
		if (m < 0) {
			err = hs_error(HS_ENOLAYOUT, "code at %#" PRIx64 " returns %s, not %s",
				       addr, a, pattern_name(pattern));
		} else if (m > 0 && found++ && d != first) {
			snprintf(b, sizeof(b), "%#" PRIx64, (uint64_t)first);
			err = hs_error(HS_ENOLAYOUT, "code at %#" PRIx64 " is ambiguous: d = %s or %#" PRIx64
				       " (%s)", addr, b, (uint64_t)d, a);
		} else if (m > 0) {
			first = d;
		}
	}
	if (!err && !found)
		err = hs_error(HS_ENOLAYOUT, "code at %#" PRIx64 " never returns %s", addr,
			       pattern_name(pattern));
	if (!err)
		*out = first;
out:
	free(ev);
	return err;
}

/* --- the checks ----------------------------------------------------- */

#define ONE_FIELD HS_F_COUNT

struct check_def {
	enum hs_pyfunc func;
	enum hs_cc_pattern pattern;
	enum hs_field field, plus; /* the derived value is off[field] (+ off[plus]) */
	int min_minor, max_minor;  /* Python 3.x where the code has this shape */
};

/* Each range was verified against DWARF on pyenv 3.8-3.13, Debian's 3.11
 * and Debian sid's 3.13-3.15.  Where a version is left out, the function
 * does not state the field reliably there (noted below). */
static const struct check_def check_defs[] = {
	{HS_FUNC_INTERP_HEAD, HS_CC_GLOBAL, HS_F_RT_INTERP_HEAD, ONE_FIELD, 8, 15},
	{HS_FUNC_INTERP_NEXT, HS_CC_ARG0_FIELD, HS_F_IS_NEXT, ONE_FIELD, 8, 15},
	{HS_FUNC_INTERP_THREAD_HEAD, HS_CC_ARG0_FIELD, HS_F_IS_THREADS_HEAD, ONE_FIELD, 8, 15},
	{HS_FUNC_INTERP_GET_DICT, HS_CC_ARG0_FIELD, HS_F_IS_DICT, ONE_FIELD, 8, 15},
	{HS_FUNC_GC_IS_ENABLED, HS_CC_CURRENT_FIELD, HS_F_IS_GC, HS_F_GCS_ENABLED, 10, 15},
	{HS_FUNC_IMPORT_GET_MODULE_DICT, HS_CC_CURRENT_FIELD, HS_F_IS_MODULES, ONE_FIELD, 8, 15},
	{HS_FUNC_THREAD_NEXT, HS_CC_ARG0_FIELD, HS_F_TS_NEXT, ONE_FIELD, 8, 15},
	/* 3.9+ calls _PyThreadState_GetDict(): inlined by some builds only */
	{HS_FUNC_THREAD_GET_DICT, HS_CC_CURRENT_FIELD, HS_F_TS_DICT, ONE_FIELD, 8, 8},
	{HS_FUNC_TYPE_GET_FLAGS, HS_CC_ARG0_FIELD, HS_F_TP_FLAGS, ONE_FIELD, 8, 15},
	{HS_FUNC_FUNC_GET_CODE, HS_CC_ARG0_FIELD, HS_F_FN_CODE, ONE_FIELD, 8, 15},
	{HS_FUNC_FUNC_GET_GLOBALS, HS_CC_ARG0_FIELD, HS_F_FN_GLOBALS, ONE_FIELD, 8, 15},
	{HS_FUNC_FUNC_GET_MODULE, HS_CC_ARG0_FIELD, HS_F_FN_MODULE, ONE_FIELD, 8, 15},
	{HS_FUNC_FUNC_GET_DEFAULTS, HS_CC_ARG0_FIELD, HS_F_FN_DEFAULTS, ONE_FIELD, 8, 15},
	{HS_FUNC_FUNC_GET_KW_DEFAULTS, HS_CC_ARG0_FIELD, HS_F_FN_KWDEFAULTS, ONE_FIELD, 8, 15},
	{HS_FUNC_FUNC_GET_CLOSURE, HS_CC_ARG0_FIELD, HS_F_FN_CLOSURE, ONE_FIELD, 8, 15},
	/* 3.10+ turns a tuple into a dict in a loop; 3.14 calls out */
	{HS_FUNC_FUNC_GET_ANNOTATIONS, HS_CC_ARG0_FIELD, HS_F_FN_ANNOTATIONS, ONE_FIELD, 8, 9},
	{HS_FUNC_METHOD_FUNCTION, HS_CC_ARG0_FIELD, HS_F_METH_FUNC, ONE_FIELD, 8, 15},
	{HS_FUNC_METHOD_SELF, HS_CC_ARG0_FIELD, HS_F_METH_SELF, ONE_FIELD, 8, 15},
	{HS_FUNC_CELL_GET, HS_CC_ARG0_FIELD, HS_F_CELL_REF, ONE_FIELD, 8, 15},
	{HS_FUNC_MODULE_GET_DICT, HS_CC_ARG0_FIELD, HS_F_MOD_DICT, ONE_FIELD, 8, 15},
	{HS_FUNC_LIST_GET_ITEM, HS_CC_ARG0_PTR_ITEM, HS_F_LIST_ITEMS, ONE_FIELD, 8, 15},
	{HS_FUNC_LIST_SIZE, HS_CC_ARG0_FIELD, HS_F_VAR_SIZE, ONE_FIELD, 8, 15},
	{HS_FUNC_TUPLE_GET_ITEM, HS_CC_ARG0_ITEM, HS_F_TUPLE_ITEMS, ONE_FIELD, 8, 15},
	{HS_FUNC_TUPLE_SIZE, HS_CC_ARG0_FIELD, HS_F_VAR_SIZE, ONE_FIELD, 8, 15},
	{HS_FUNC_DICT_SIZE, HS_CC_ARG0_FIELD, HS_F_DICT_USED, ONE_FIELD, 8, 15},
	{HS_FUNC_SET_SIZE, HS_CC_ARG0_FIELD, HS_F_SET_USED, ONE_FIELD, 8, 15},
	{HS_FUNC_BYTEARRAY_SIZE, HS_CC_ARG0_FIELD, HS_F_VAR_SIZE, ONE_FIELD, 8, 15},
	{HS_FUNC_UNICODE_GET_LENGTH, HS_CC_ARG0_FIELD, HS_F_STR_LENGTH, ONE_FIELD, 8, 15},
	{HS_FUNC_TYPE_GET_MODULE, HS_CC_ARG0_FIELD, HS_F_HT_MODULE, ONE_FIELD, 9, 15},
	{HS_FUNC_FRAME_GET_CODE, HS_CC_ARG0_FIELD, HS_F_FR_CODE, ONE_FIELD, 9, 10},
	{HS_FUNC_FRAME_GET_CODE, HS_CC_ARG0_PTR, HS_F_FR_IFRAME, ONE_FIELD, 11, 15},
	{HS_FUNC_FRAME_GET_CODE, HS_CC_ARG0_PTR_FIELD, HS_F_IF_CODE, ONE_FIELD, 11, 15},
	/* 3.11+ walk the frame chain for a complete frame */
	{HS_FUNC_FRAME_GET_BACK, HS_CC_ARG0_FIELD, HS_F_FR_BACK, ONE_FIELD, 9, 10},
	{HS_FUNC_THREAD_GET_FRAME, HS_CC_ARG0_FIELD, HS_F_TS_FRAME, ONE_FIELD, 9, 10},
	/* gi_iframe.f_code (f_executable): PyGen_GetCode is new in 3.12 */
	{HS_FUNC_GEN_GET_CODE, HS_CC_ARG0_FIELD, HS_F_GEN_IFRAME, HS_F_IF_CODE, 12, 15},
};

/* "PyThreadState.next": the first struct name, the member path(s) */
static void field_text(enum hs_field f, char *buf, size_t len)
{
	const struct hs_field_desc *d = &hs_field_descs[f];
	size_t n = strcspn(d->structs, "|");

	snprintf(buf, len, "%.*s.%s", (int)n, d->structs, d->members);
}

/* Whether a derived offset can stand in the layout: inside its struct. */
static bool fits(const struct hs_layout *layout, enum hs_field f, int64_t off)
{
	uint32_t size = layout->size[hs_field_descs[f].owner];

	return off >= 0 && off < INT32_MAX && (!size || off < size);
}

int hs_codecheck_run(struct hs_memsrc *mem, const struct hs_pyelf *elf, struct hs_layout *layout,
		     bool may_correct, struct hs_check_list *out)
{
	const struct hs_cc_env env = {
		.relro_start = elf->relro_start,
		.relro_end = elf->relro_end,
		.global = elf->sym[HS_SYM_RUNTIME],
		.global_size = elf->runtime_size,
	};
	bool *settled = out->settled_off; /* shared with the other checks */
	char mismatch[256] = "";

	for (size_t i = 0; i < sizeof(check_defs) / sizeof(check_defs[0]); i++) {
		const struct check_def *def = &check_defs[i];
		bool sum = def->plus != ONE_FIELD;
		struct hs_check c;
		char what[2][64];
		int err;

		if (elf->major != 3 || elf->minor < def->min_minor || elf->minor > def->max_minor)
			continue;
		memset(&c, 0, sizeof(c));
		snprintf(c.source, sizeof(c.source), "%s", hs_pyfunc_name(def->func));
		field_text(def->field, what[0], sizeof(what[0]));
		if (sum)
			field_text(def->plus, what[1], sizeof(what[1]));
		snprintf(c.what, sizeof(c.what), "%.46s%s%.46s", what[0], sum ? " + " : "",
			 sum ? what[1] : "");
		c.status = HS_CHECK_UNAVAILABLE;
		c.expected = c.derived = HS_ABSENT;
		if (!hs_has(layout, def->field) || (sum && !hs_has(layout, def->plus))) {
			hs_checks_add(out, &c); /* nothing to compare with */
			continue;
		}
		c.expected = (int64_t)layout->off[def->field] + (sum ? layout->off[def->plus] : 0);
		err = elf->func[def->func]
			      ? hs_cc_derive(mem, &env, elf->func[def->func], elf->func_size[def->func],
					     def->pattern, &c.derived)
			      : HS_ENOLAYOUT;
		if (err == HS_ENOMEM)
			return err;
		if (err < 0) {
			c.derived = HS_ABSENT;
		} else if (c.derived == c.expected) {
			c.status = HS_CHECK_OK;
			settled[def->field] |= !sum;
		} else if (!sum && may_correct && !settled[def->field] &&
			   fits(layout, def->field, c.derived)) {
			layout->off[def->field] = (int32_t)c.derived;
			settled[def->field] = true;
			c.status = HS_CHECK_CORRECTED;
		} else {
			c.status = HS_CHECK_MISMATCH;
			if (!mismatch[0])
				snprintf(mismatch, sizeof(mismatch),
					 "%s reads %s at offset %" PRId64 ", the layout says %" PRId64,
					 c.source, c.what, c.derived, c.expected);
		}
		hs_checks_add(out, &c);
	}
	return mismatch[0] ? hs_error(HS_ENOLAYOUT, "%s", mismatch) : 0;
}

/**
 * Event formats of older kernels, for replaying traces recorded there: a
 * line that does not match this kernel's print fmt is decoded again with
 * these. The block formats are those of Linux 3.x-4.x (before ioprio was
 * added to the block request events), as the perf-tools examples show them.
 */
import type {FormatText} from '@ftrace-ts/tracefs';

const commonFields = `	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;
`;

const devArgs = '((unsigned int) ((REC->dev) >> 20)), ((unsigned int) ((REC->dev) & ((1U << 20) - 1)))';

function blockRequest(name: string, id: number): FormatText {
	return {system: 'block', text: `name: ${name}
ID: ${id}
format:
${commonFields}
	field:dev_t dev;	offset:8;	size:4;	signed:0;
	field:sector_t sector;	offset:16;	size:8;	signed:0;
	field:unsigned int nr_sector;	offset:24;	size:4;	signed:0;
	field:unsigned int bytes;	offset:28;	size:4;	signed:0;
	field:char rwbs[8];	offset:32;	size:8;	signed:1;
	field:char comm[16];	offset:40;	size:16;	signed:1;
	field:__data_loc char[] cmd;	offset:56;	size:4;	signed:1;

print fmt: "%d,%d %s %u (%s) %llu + %u [%s]", ${devArgs}, REC->rwbs, REC->bytes, __get_str(cmd), (unsigned long long)REC->sector, REC->nr_sector, REC->comm
`};
}

/** block_rq_issue, block_rq_insert and block_rq_complete before Linux 6.x's ioprio field. */
export const legacyBlockFormats: readonly FormatText[] = [
	blockRequest('block_rq_issue', 942),
	blockRequest('block_rq_insert', 943),
	{system: 'block', text: `name: block_rq_complete
ID: 945
format:
${commonFields}
	field:dev_t dev;	offset:8;	size:4;	signed:0;
	field:sector_t sector;	offset:16;	size:8;	signed:0;
	field:unsigned int nr_sector;	offset:24;	size:4;	signed:0;
	field:int errors;	offset:28;	size:4;	signed:1;
	field:char rwbs[8];	offset:32;	size:8;	signed:1;
	field:__data_loc char[] cmd;	offset:40;	size:4;	signed:1;

print fmt: "%d,%d %s (%s) %llu + %u [%d]", ${devArgs}, REC->rwbs, __get_str(cmd), (unsigned long long)REC->sector, REC->nr_sector, REC->errors
`},
];

// SPDX-License-Identifier: GPL-2.0
//
// speedscope_read.mjs SPEEDSCOPE_DIR FILE: reads FILE with speedscope's own
// importer, headless, and prints the stacks it understood in the folded
// format again ("frame;frame;... weight", root first, one per distinct
// stack, sorted), so that a test can compare them with FILE line for line:
// a line speedscope skipped, split elsewhere or weighed otherwise shows as
// a difference.  On stderr: "speedscope VERSION: P profiles, total W".
//
// speedscope ships as one browser bundle (dist/release/speedscope-*.js),
// with no API for Node.  Its importer module is an esbuild namespace object
// in that bundle, "var NS={};EXPORT(NS,{importFromFileSystemDirectoryEntry:
// ...})", loaded on demand by "Promise.resolve().then(()=>(INIT(),NS))".
// The bundle runs here in a vm context with the few browser globals its
// startup reads, with one statement added before it mounts its UI (the
// "speedscope v..." log line): keep NS, then stop.  The collapsed-stack
// importer is chosen by the file name ending .collapsedstack.txt, as when a
// user opens such a file.
import fs from 'node:fs';
import vm from 'node:vm';

const [dir, file] = process.argv.slice(2);
const release = `${dir}/node_modules/speedscope/dist/release`;
const version = JSON.parse(fs.readFileSync(`${dir}/node_modules/speedscope/package.json`)).version;
const bundle = fs.readdirSync(release).find(f => /^speedscope-.*\.js$/.test(f));
let src = fs.readFileSync(`${release}/${bundle}`, 'utf8');

function find(re, what) {
	const m = re.exec(src);
	if (!m) {
		console.error(`speedscope ${version}: ${what} not found in ${bundle}`);
		process.exit(2);
	}
	return m[1];
}
const id = '[$\\w]+';
const ns = find(new RegExp(`var (${id})=\\{\\};${id}\\(\\1,\\{importFromFileSystemDirectoryEntry:`),
		'the importer module');
const init = find(new RegExp(`Promise\\.resolve\\(\\)\\.then\\(\\(\\)=>\\((${id})\\(\\),` +
			     `${ns.replace(/\$/g, '\\$')}\\)\\)`), 'its initializer');
const mount = src.lastIndexOf('console.log(`speedscope v');
if (mount < 0) {
	console.error(`speedscope ${version}: the UI mount not found in ${bundle}`);
	process.exit(2);
}
src = src.slice(0, mount) + `globalThis.__lwImport=(${init}(),${ns});throw "lw-stop";` +
      src.slice(mount);

const ctx = {
	console: { log() {}, warn() {}, error: console.error, info() {} },
	setTimeout, clearTimeout, TextDecoder, TextEncoder, URL, Promise,
	location: { hash: '', protocol: 'file:', search: '', href: 'file:///' },
	localStorage: {},
	navigator: { userAgent: 'node', platform: 'linux' },
	matchMedia: () => ({ matches: false, addListener() {}, addEventListener() {} }),
	addEventListener() {},
	requestAnimationFrame: () => 0,
};
ctx.window = ctx.self = ctx.globalThis = ctx;
try {
	vm.runInNewContext(src, ctx);
} catch (e) {
	if (e !== 'lw-stop')
		throw e;
}

const group = await ctx.__lwImport.importProfileGroupFromText('stuck.collapsedstack.txt',
							       fs.readFileSync(file, 'utf8'));
if (!group) {
	console.error(`speedscope ${version}: could not import ${file}`);
	process.exit(1);
}
const lines = [];
let total = 0;
for (const p of group.profiles) {
	total += p.getTotalWeight();
	const walk = (node, path) => {
		for (const child of node.children) {
			const stack = [...path, child.frame.name];
			if (child.getSelfWeight() > 0)
				lines.push(`${stack.join(';')} ${child.getSelfWeight()}`);
			walk(child, stack);
		}
	};
	walk(p.getGroupedCalltreeRoot(), []);
}
// Sorted as "LC_ALL=C sort" does: by UTF-8 bytes.
lines.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
process.stdout.write(lines.map(l => l + '\n').join(''));
console.error(`speedscope ${version}: ${group.profiles.length} profiles, total ${total}`);

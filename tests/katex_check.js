// Parse every math block given on stdin with KaTeX, as a page that renders derive's Markdown would.
// Input: a JSON list of {"tex": "...", "display": true|false}. Output: a JSON list of the failures.
const katex = require("katex");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const failures = [];
  for (const block of JSON.parse(input)) {
    try {
      katex.renderToString(block.tex, { displayMode: block.display, throwOnError: true, strict: "error" });
    } catch (error) {
      failures.push({ tex: block.tex, error: String(error.message || error) });
    }
  }
  process.stdout.write(JSON.stringify(failures));
});

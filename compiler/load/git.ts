/**
 * Config from a git repository at a ref (a commit, branch or tag), read without a work tree:
 * `git ls-tree` + `git show`. Used by `sluice compile --git` and by the operator after it fetched.
 */
import { sourceFilesFromEntries, type SourceFile } from './files.js';

export async function readConfigFromGit(repoDir: string, ref: string, subPath = ''): Promise<{ revision: string; files: SourceFile[] }> {
  // Loaded here: only config read from git needs it.
  const { simpleGit } = await import('simple-git');
  const git = simpleGit(repoDir);
  const revision = (await git.revparse([`${ref}^{commit}`])).trim();
  const prefix = subPath.replace(/^\/+|\/+$/g, '');
  const listing = await git.raw(['ls-tree', '-r', '--name-only', revision, ...(prefix ? ['--', prefix] : [])]);
  const entries: { path: string; text: string }[] = [];
  for (const name of listing.split('\n').filter(Boolean)) {
    const rel = prefix ? name.slice(prefix.length + 1) : name;
    if (!/^(node-metadata|pipes\/|systems\/).*\.conf\.(json|ya?ml)$/.test(rel)) continue;
    entries.push({ path: rel, text: await git.show([`${revision}:${name}`]) });
  }
  return { revision, files: sourceFilesFromEntries(entries) };
}

import { useSignal } from "@preact/signals";
import { FileBrowser, type FileSource, useFileBrowser } from "../components/FileBrowser.js";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { fetchSharedFile, fetchSharedFiles, type Problem } from "../lib/api.js";

/** The hive's one shared dir: the same for every page, so a constant (a stable browser source). */
const shared: FileSource = { list: fetchSharedFiles, read: fetchSharedFile };

/**
 * Dashboard: the hive's shared dir (`<root>/shared`, where every agent reads and writes), read-only
 * as c0re serves it, in the agent page's {@link FileBrowser}. Nothing is read until "browse" is
 * pressed; "reload" then lists the directory shown again (closing the file shown).
 */
export function SharedFilesPanel() {
  const opened = useSignal(false);
  const problem = useSignal<Problem | null>(null);
  const files = useFileBrowser(shared, problem);
  return (
    <Panel id="shared-panel" title="Shared files">
      {opened.value ? (
        <>
          <button
            type="button"
            id="shared-files-reload"
            onClick={() => files.goTo(files.dir.value)}
          >
            reload
          </button>
          <FileBrowser browser={files} root="shared" idPrefix="shared-" />
        </>
      ) : (
        <>
          <button
            type="button"
            id="shared-files-browse"
            onClick={() => {
              opened.value = true;
              void files.list();
            }}
          >
            browse
          </button>
          <p class="muted" id="shared-files-hint">
            read-only, through c0re: what agents left world-readable in &lt;root&gt;/shared
          </p>
        </>
      )}
      <ProblemLine id="shared-files-error" problem={problem.value} />
    </Panel>
  );
}

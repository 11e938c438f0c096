import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * What a Docker engine could change on the host's network and must not leave behind: IP
 * forwarding, the firewall, and the network interfaces (`docker0`, a `br-<id>` per network).
 */
export interface HostNetworkState {
  /** `/proc/sys/net/ipv4/ip_forward`: "0" or "1". */
  readonly ipForward: string;
  /** `iptables -S` and `iptables -t nat -S`; undefined without iptables. */
  readonly iptables: string | undefined;
  /** Interface names in `/sys/class/net`. */
  readonly links: readonly string[];
}

/** Reads the host's network state now. */
export function hostNetworkState(): HostNetworkState {
  return {
    ipForward: readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim(),
    iptables: iptablesRules(),
    links: readdirSync("/sys/class/net").sort(),
  };
}

function iptablesRules(): string | undefined {
  try {
    const filter = execFileSync("iptables", ["-S"], { encoding: "utf8" });
    const nat = execFileSync("iptables", ["-t", "nat", "-S"], { encoding: "utf8" });
    return `${filter}${nat}`;
  } catch {
    return undefined;
  }
}

/**
 * Deletes the interfaces a Docker engine created since `before` and left (`docker0`,
 * `br-<network id>`, `veth…` of a container it could not wire up), then says what still differs from `before`: one line per difference, none when the host is as
 * it was.
 */
export function restoreHostNetwork(before: HostNetworkState): string[] {
  for (const link of hostNetworkState().links) {
    if (before.links.includes(link) || !/^(docker0|br-[0-9a-f]{12}|veth[0-9a-f]{7})$/.test(link))
      continue;
    try {
      execFileSync("ip", ["link", "delete", link], { stdio: "ignore" });
    } catch {
      // Gone in the meantime, or no `ip`: the comparison below reports it if it is still there.
    }
  }
  const after = hostNetworkState();
  const changed: string[] = [];
  if (after.ipForward !== before.ipForward) {
    changed.push(`net.ipv4.ip_forward is ${after.ipForward}, was ${before.ipForward}`);
  }
  if (after.iptables !== before.iptables) changed.push("iptables rules differ from before");
  const added = after.links.filter((l) => !before.links.includes(l));
  if (added.length > 0) changed.push(`network interfaces left behind: ${added.join(", ")}`);
  return changed;
}

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { basename } from "node:path";

/**
 * The host-wide network settings a Docker engine could change and must not: IP forwarding and the
 * firewall. (Its interfaces are its own: see {@link deleteBridges}.)
 */
export interface HostNetworkState {
  /** `/proc/sys/net/ipv4/ip_forward`: "0" or "1". */
  readonly ipForward: string;
  /** `iptables -S` and `iptables -t nat -S`; undefined without iptables. */
  readonly iptables: string | undefined;
}

/** Reads the host's network settings now. */
export function hostNetworkState(): HostNetworkState {
  return {
    ipForward: readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim(),
    iptables: iptablesRules(),
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

/** One line per setting that differs from `before`; none when the host is as it was. */
export function hostNetworkChanges(before: HostNetworkState): string[] {
  const now = hostNetworkState();
  const changed: string[] = [];
  if (now.ipForward !== before.ipForward) {
    changed.push(`net.ipv4.ip_forward is ${now.ipForward}, was ${before.ipForward}`);
  }
  if (now.iptables !== before.iptables) changed.push("iptables rules differ from before");
  return changed;
}

/**
 * Deletes the given bridges (a stopped engine's `br-<network id>`) with the `veth` ends still
 * enslaved to them; returns the names still there afterwards. Only these: other engines (another
 * test run) may have their own bridges on the host at the same time.
 */
export function deleteBridges(bridges: readonly string[]): string[] {
  const enslaved = readdirSync("/sys/class/net").filter((l) => {
    const master = masterOf(l);
    return master !== undefined && bridges.includes(master);
  });
  for (const link of [...enslaved, ...bridges]) {
    if (!existsSync(`/sys/class/net/${link}`)) continue;
    try {
      execFileSync("ip", ["link", "delete", link], { stdio: "ignore" });
    } catch {
      // Gone in the meantime, or no `ip`: reported below if it is still there.
    }
  }
  return [...enslaved, ...bridges].filter((l) => existsSync(`/sys/class/net/${l}`));
}

/** The bridge `link` is enslaved to: `/sys/class/net/<link>/master` links to its directory. */
function masterOf(link: string): string | undefined {
  try {
    return basename(readlinkSync(`/sys/class/net/${link}/master`));
  } catch {
    return undefined;
  }
}

/** An IPv4 route: its destination network as two 32-bit numbers. */
interface Route {
  readonly net: number;
  readonly mask: number;
}

/** The host's IPv4 routes but the default one (`/proc/net/route`, little-endian hex). */
function routes(): Route[] {
  const le = (hex: string): number =>
    Number.parseInt(hex.match(/../g)?.reverse().join("") ?? "0", 16);
  return readFileSync("/proc/net/route", "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .map((f) => ({ net: le(f[1] ?? "0"), mask: le(f[7] ?? "0") }))
    .filter((r) => r.mask !== 0);
}

/**
 * An address pool for a private engine's networks (`--default-address-pool base=…,size=24`): a
 * random /22 in 10.213.0.0/16 that no host route overlaps. Docker's own default, 172.17.0.0/16
 * and up, would be the same for two engines started side by side (two test runs at once): both
 * would put a bridge on the same subnet, and neither could reach its containers.
 */
export function freeAddressPool(): string {
  const taken = routes();
  for (let tries = 0; tries < 64; tries++) {
    const base = ((10 << 24) | (213 << 16) | (Math.floor(Math.random() * 64) << 10)) >>> 0;
    const mask = 0xfffffc00;
    const overlaps = taken.some((r) => {
      const common = (r.mask & mask) >>> 0;
      return (r.net & common) >>> 0 === (base & common) >>> 0;
    });
    if (!overlaps) return `${[24, 16, 8, 0].map((s) => (base >>> s) & 255).join(".")}/22`;
  }
  throw new Error("no free /22 in 10.213.0.0/16 for the private dockerd's networks");
}

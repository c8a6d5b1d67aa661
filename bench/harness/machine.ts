/**
 * A description of the machine a report ran on, since absolute figures only hold there.
 *
 * @module
 */

/** The machine and runtime of one report. */
export interface Machine {
  /** Logical cores. */
  cores: number;
  /** CPU model from /proc/cpuinfo (`"unknown"` where there is none). */
  cpuModel: string;
  /** Deno version. */
  deno: string;
  /** V8 version. */
  v8: string;
  /** Operating system and kernel release. */
  os: string;
}

/**
 * Describe this machine.
 *
 * @returns Cores, CPU model, Deno and V8 versions, OS.
 */
export async function describeMachine(): Promise<Machine> {
  let cpuModel = "unknown";
  try {
    const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
    cpuModel = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? cpuModel;
  } catch {
    // Not Linux.
  }
  return {
    cores: navigator.hardwareConcurrency,
    cpuModel,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
  };
}

/** CPU time of the whole machine since boot, in seconds, from /proc/stat. */
export interface MachineCpu {
  /**
   * Time all CPUs spent running processes (user, nice, system). Interrupt time is left out:
   * the loopback traffic of the bench itself lands there.
   */
  busy: number;
  /** Time the hypervisor took from this VM's CPUs. */
  steal: number;
}

/**
 * Read the machine's CPU counters.
 *
 * @returns The counters, or `undefined` where /proc/stat is missing.
 */
export function machineCpu(): MachineCpu | undefined {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
    const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const hz = 100; // USER_HZ on Linux
    return { busy: (user + nice + system) / hz, steal: steal / hz };
  } catch {
    return undefined;
  }
}

/**
 * One line naming the machine, for tables and charts.
 *
 * @param machine The machine.
 * @returns E.g. "2 cores, AMD EPYC, Deno 2.9.6, linux 6.1".
 */
export function machineLine(machine: Machine): string {
  return `${machine.cores} cores, ${machine.cpuModel}, Deno ${machine.deno}, ${machine.os}`;
}

// Types for cluster-key-slot (ships none): Redis Cluster's CRC16 hash slot of a key.
declare module 'cluster-key-slot' {
  /** The hash slot (0..16383) of `key`, honouring {hash tags}. */
  export default function calculateSlot(key: string | Buffer): number;
}

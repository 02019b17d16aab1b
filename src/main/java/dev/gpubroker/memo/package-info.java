/**
 * Small bounded memos for the hot path: answers and checks worked out from equal inputs again and again (a polled
 * tool's arguments and answer), kept in memory and dropped all at once when full. Nothing here is state: losing any of
 * it only means working it out again.
 */
package dev.gpubroker.memo;

/**
 * The HTTP edge shared by the admin API and MCP: the firewall, the chain that denies what no other claims, bearer
 * credentials, bounded request bodies and problem+json answers. It knows neither the admin API nor MCP.
 */
package dev.gpubroker.web;

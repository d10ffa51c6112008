// Package azure holds what the Blob Storage and Cosmos DB code of recs
// shares: opening a Blob container from a URL or a connection string with
// the right credential, counting the SDK's retries, and scrubbing secrets
// (account keys, SAS signatures) out of error messages.
package azure

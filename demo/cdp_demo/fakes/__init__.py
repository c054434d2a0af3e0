"""Local stand-ins for activation destinations: fake HubSpot and Klaviyo APIs, a webhook
receiver, an SFTP server and helpers to start sshd/PostgreSQL. Used by tests and the demo."""

"""What Acre sends out: signed webhooks to a company's endpoints, team-chat robots (WeCom, DingTalk,
Feishu) for the members' notifications, and each member's private calendar feed (ICS)."""

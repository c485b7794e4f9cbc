"""PowerDesk: omnichannel customer service and marketing for electric utilities."""

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PutMsgID records that message xmppID (the XMPP stanza id) and legacyID
// (the legacy network's message id) are the same message in chat of user
// jid of gateway gw, so replies, corrections, receipts and reactions can be
// translated both ways. The mapping is one-to-one within a chat: a new
// mapping replaces any earlier one that shares either id. Putting the same
// pair again is a no-op.
func (s *Store) PutMsgID(ctx context.Context, gw, jid, chat, xmppID, legacyID string) error {
	if err := s.w.write(ctx, jid, s.putMsgOp(gw, jid, chat, xmppID, legacyID)); err != nil {
		return fmt.Errorf("store: put msg id %s: %w", jid, err)
	}
	return nil
}

func (s *Store) putMsgOp(gw, jid, chat, xmppID, legacyID string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.putMsg).ExecContext(ctx, gw, jid, chat, xmppID, legacyID, now())
		return err
	}
}

// LegacyMsgID returns the legacy message id mapped to xmppID in chat of
// user jid of gateway gw, or an error wrapping ErrNotFound.
func (s *Store) LegacyMsgID(ctx context.Context, gw, jid, chat, xmppID string) (string, error) {
	var id string
	if err := s.w.barrier(ctx, jid); err != nil {
		return "", fmt.Errorf("store: legacy msg id %s: %w", jid, err)
	}
	if err := s.legacyMsg.QueryRowContext(ctx, gw, jid, chat, xmppID).Scan(&id); err != nil {
		return "", fmt.Errorf("store: legacy msg id %s: %w", jid, notFound(err))
	}
	return id, nil
}

// XMPPMsgID returns the XMPP stanza id mapped to legacyID in chat of user
// jid of gateway gw, or an error wrapping ErrNotFound.
func (s *Store) XMPPMsgID(ctx context.Context, gw, jid, chat, legacyID string) (string, error) {
	var id string
	if err := s.w.barrier(ctx, jid); err != nil {
		return "", fmt.Errorf("store: xmpp msg id %s: %w", jid, err)
	}
	if err := s.xmppMsg.QueryRowContext(ctx, gw, jid, chat, legacyID).Scan(&id); err != nil {
		return "", fmt.Errorf("store: xmpp msg id %s: %w", jid, notFound(err))
	}
	return id, nil
}

// OutItem is one queued outbound stanza, as returned by Pending.
type OutItem struct {
	// Seq orders the queue of one gateway; it only grows.
	Seq int64
	// JID is the bare JID of the user the stanza concerns.
	JID string
	// StanzaID is the stanza's id attribute.
	StanzaID string
	// Payload is the serialized stanza.
	Payload string
	// CreatedAt is when the stanza was enqueued.
	CreatedAt time.Time
}

// Enqueue appends an outbound stanza to gateway gw's queue, so it survives
// a restart until the XMPP server has taken it (see Ack), and returns its
// sequence number. Sequence numbers grow in commit order: a reader that
// pages with Pending(afterSeq) never misses a row.
func (s *Store) Enqueue(ctx context.Context, gw, jid, stanzaID, payload string) (int64, error) {
	items := []OutItem{{JID: jid, StanzaID: stanzaID, Payload: payload}}
	if err := s.EnqueueBatch(ctx, gw, items); err != nil {
		return 0, err
	}
	return items[0].Seq, nil
}

// EnqueueBatch appends several outbound stanzas of gateway gw in one transaction, in order,
// and sets each item's Seq: one commit for a burst of messages instead of one per message.
func (s *Store) EnqueueBatch(ctx context.Context, gw string, items []OutItem) error {
	if len(items) == 0 {
		return nil
	}
	at := now()
	err := s.w.write(ctx, "", func(ctx context.Context, tx *sql.Tx) error {
		st := tx.StmtContext(ctx, s.enqueue)
		for i := range items {
			it := &items[i]
			if s.dialect == postgresDialect {
				if err := st.QueryRowContext(ctx, gw, it.JID, it.StanzaID, it.Payload, at).Scan(&it.Seq); err != nil {
					return err
				}
				continue
			}
			res, err := st.ExecContext(ctx, gw, it.JID, it.StanzaID, it.Payload, at)
			if err == nil {
				it.Seq, err = res.LastInsertId()
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: enqueue %s: %w", gw, err)
	}
	return nil
}

// Pending returns up to limit queued stanzas of gateway gw with a sequence
// number greater than afterSeq, in sequence order. limit <= 0 means no
// limit.
func (s *Store) Pending(ctx context.Context, gw string, afterSeq int64, limit int) ([]OutItem, error) {
	n := limit
	if limit <= 0 || limit > 1<<31-1 {
		limit = 1<<31 - 1
		n = 16
	}
	if err := s.w.barrier(ctx, ""); err != nil {
		return nil, fmt.Errorf("store: pending %s: %w", gw, err)
	}
	rows, err := s.pending.QueryContext(ctx, gw, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending %s: %w", gw, err)
	}
	defer rows.Close()
	out := make([]OutItem, 0, min(n, 256))
	for rows.Next() {
		var it OutItem
		var at int64
		if err := rows.Scan(&it.Seq, &it.JID, &it.StanzaID, &it.Payload, &at); err != nil {
			return nil, fmt.Errorf("store: pending %s: %w", gw, err)
		}
		it.CreatedAt = fromMicros(at)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending %s: %w", gw, err)
	}
	return out, nil
}

// Ack removes every queued stanza of gateway gw with a sequence number up
// to and including uptoSeq, once they have been delivered.
func (s *Store) Ack(ctx context.Context, gw string, uptoSeq int64) error {
	if err := s.w.write(ctx, "", s.ackOp(gw, uptoSeq)); err != nil {
		return fmt.Errorf("store: ack %s: %w", gw, err)
	}
	return nil
}

func (s *Store) ackOp(gw string, uptoSeq int64) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.ack).ExecContext(ctx, gw, uptoSeq)
		return err
	}
}

// JournalItem is one inbound message of a user not yet confirmed by the
// plugin, as returned by JournalPending.
type JournalItem struct {
	// StanzaID is the id of the user's stanza.
	StanzaID string
	// Payload is the serialized stanza.
	Payload string
	// CreatedAt is when the stanza was journaled.
	CreatedAt time.Time
}

// JournalOpen records inbound stanza id from user jid of gateway gw before
// it is handed to the plugin, so it can be replayed if the plugin or the
// gateway dies before confirming it. Opening an id that is already open is
// a no-op (the first payload is kept).
func (s *Store) JournalOpen(ctx context.Context, gw, jid, id, payload string) error {
	at := now()
	if err := s.w.write(ctx, jid, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.jOpen).ExecContext(ctx, gw, jid, id, payload, at)
		return err
	}); err != nil {
		return fmt.Errorf("store: journal open %s: %w", jid, err)
	}
	return nil
}

// JournalClose marks stanza id of user jid of gateway gw as confirmed by the
// plugin, removing it from the journal. Closing an unknown id is not an
// error.
func (s *Store) JournalClose(ctx context.Context, gw, jid, id string) error {
	if err := s.w.write(ctx, jid, s.journalCloseOp(gw, jid, id)); err != nil {
		return fmt.Errorf("store: journal close %s: %w", jid, err)
	}
	return nil
}

func (s *Store) journalCloseOp(gw, jid, id string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.jClose).ExecContext(ctx, gw, jid, id)
		return err
	}
}

// JournalPending returns the open journal entries of user jid of gateway gw
// in arrival order, for replay after a restart.
func (s *Store) JournalPending(ctx context.Context, gw, jid string) ([]JournalItem, error) {
	if err := s.w.barrier(ctx, jid); err != nil {
		return nil, fmt.Errorf("store: journal pending %s: %w", jid, err)
	}
	rows, err := s.jPending.QueryContext(ctx, gw, jid)
	if err != nil {
		return nil, fmt.Errorf("store: journal pending %s: %w", jid, err)
	}
	defer rows.Close()
	var out []JournalItem
	for rows.Next() {
		var it JournalItem
		var at int64
		if err := rows.Scan(&it.StanzaID, &it.Payload, &at); err != nil {
			return nil, fmt.Errorf("store: journal pending %s: %w", jid, err)
		}
		it.CreatedAt = fromMicros(at)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: journal pending %s: %w", jid, err)
	}
	return out, nil
}

// PruneMsgIDs forgets the message-id mappings created before before, for every user of every
// gateway in the store, and returns how many it removed. Each user's mappings go in a write of
// their own, so that message traffic is not held up behind one long transaction. After this,
// a correction, retraction, reaction, reply or marker naming such an old message no longer
// resolves.
func (s *Store) PruneMsgIDs(ctx context.Context, before time.Time) (int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT gateway, jid FROM users`)
	if err != nil {
		return 0, fmt.Errorf("store: prune msg ids: %w", err)
	}
	var users [][2]string
	for rows.Next() {
		var u [2]string
		if err := rows.Scan(&u[0], &u[1]); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: prune msg ids: %w", err)
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: prune msg ids: %w", err)
	}
	at := before.UnixMicro()
	var total int64
	for _, u := range users {
		var n int64
		err := s.w.write(ctx, u[1], func(ctx context.Context, tx *sql.Tx) error {
			res, err := tx.StmtContext(ctx, s.pruneMsg).ExecContext(ctx, u[0], u[1], at)
			if err == nil {
				n, err = res.RowsAffected()
			}
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: prune msg ids %s: %w", u[1], err)
		}
		total += n
	}
	return total, nil
}

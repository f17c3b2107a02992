-- ikestate-peer.lua — the core labelling of the ikestate plugin, written as a Lua post-dissector.
--
-- Used only by bench/run-bench.sh (issue #6) to compare the C plugin with what a user would get
-- from Lua: same inputs (ISAKMP header fields), same per-packet snapshot, same core labels.
-- It is meant as a fair peer, not a strawman: one early-out extractor call on non-ISAKMP frames,
-- table lookups keyed by cookies, byte comparison only when exchange/MID/direction already match.
-- It covers tunnel index, MM1..MM6 / AM1..AM3 / QM1..QM4 / INFO / TXN, sender role and ASA state,
-- and retransmission by identical bytes. It leaves out what the plugin adds on top (IOS and QM
-- states, response links, elapsed/setup times, expert items, mid-negotiation role inference).
--
--   tshark -X lua_script:bench/ikestate-peer.lua -r f.pcap -Y ikelua.retransmission
--
-- Fields: ikelua.tunnel, ikelua.msg, ikelua.role, ikelua.state, ikelua.retransmission.
--
-- SPDX-License-Identifier: GPL-2.0-or-later

local p = Proto("ikelua", "IKE negotiation state (Lua peer)")
local f_tunnel = ProtoField.uint32("ikelua.tunnel", "Tunnel")
local f_msg = ProtoField.string("ikelua.msg", "Message")
local f_role = ProtoField.string("ikelua.role", "Sender role")
local f_state = ProtoField.string("ikelua.state", "ASA state")
local f_retrans = ProtoField.uint32("ikelua.retransmission", "Retransmission")
p.fields = { f_tunnel, f_msg, f_role, f_state, f_retrans }

-- Every call returns all instances in the frame (a frame can carry two ISAKMP messages: Cisco
-- fragment carrier + reassembled message), in tree order, so index i is the same message in each.
local x_isakmp = Field.new("isakmp")
local x_ispi = Field.new("isakmp.ispi")
local x_rspi = Field.new("isakmp.rspi")
local x_next = Field.new("isakmp.nextpayload")
local x_exch = Field.new("isakmp.exchangetype")
local x_flags = Field.new("isakmp.flags")
local x_msgid = Field.new("isakmp.messageid")
local x_icmp = Field.new("icmp")
local x_icmpv6 = Field.new("icmpv6")

local ZERO_SPI = "0000000000000000"
local PL_SA, PL_KE = 1, 4
local EXCH_MAIN, EXCH_AGGR, EXCH_INFO, EXCH_TXN, EXCH_QUICK = 2, 4, 5, 6, 32

local STATE_AFTER = {
	MM1 = "MM_WAIT_MSG2", MM2 = "MM_WAIT_MSG3", MM3 = "MM_WAIT_MSG4",
	MM4 = "MM_WAIT_MSG5", MM5 = "MM_WAIT_MSG6", MM6 = "MM_ACTIVE",
	AM1 = "AM_WAIT_MSG2", AM2 = "AM_WAIT_MSG3", AM3 = "AM_ACTIVE",
}

-- Per-file state, reset by init(): tunnels by initiator cookie, snapshots by frame number.
local by_ispi, n_tunnels, results

function p.init()
	by_ispi, n_tunnels, results = {}, 0, {}
end

-- Clear payload types of an unencrypted message, as a set (the header's next payload may be a
-- VID, so SA/KE are looked for along the whole chain, like the plugin does).
local function clear_payloads(raw, first)
	local set, nxt, off, len = {}, first, 29, #raw
	for _ = 1, 64 do
		if nxt == 0 or off + 3 > len then break end
		local plen = raw:byte(off + 2) * 256 + raw:byte(off + 3)
		if plen < 4 or off + plen - 1 > len then break end
		set[nxt] = true
		nxt = raw:byte(off)
		off = off + plen
	end
	return set
end

local function find_tunnel(ispi, rspi)
	local list = by_ispi[ispi]
	if list then
		for _, t in ipairs(list) do
			if t.rspi == rspi or t.rspi == ZERO_SPI or rspi == ZERO_SPI then
				if t.rspi == ZERO_SPI then t.rspi = rspi end
				return t
			end
		end
	else
		list = {}
		by_ispi[ispi] = list
	end
	n_tunnels = n_tunnels + 1
	local t = { index = n_tunnels, rspi = rspi, init = nil, state = {}, last = {}, qm = {} }
	list[#list + 1] = t
	return t
end

-- One ISAKMP message on its first dissection with fields: labels {tunnel, msg, role, state, retrans}.
local function track(src, dst, ispi, rspi, nextp, exch, flags, msgid, raw)
	local t = find_tunnel(ispi, rspi)
	local phase1 = exch == EXCH_MAIN or exch == EXCH_AGGR
	local encrypted = flags % 2 == 1
	local pls = (not encrypted) and clear_payloads(raw, nextp) or {}

	-- Roles: the phase-1 sender with a zero responder cookie is the initiator; an SA answer
	-- with a responder cookie comes from the responder.
	if not t.init and phase1 then
		if rspi == ZERO_SPI then t.init = src
		elseif pls[PL_SA] then t.init = dst end
	end
	local dir = t.init == nil and "?" or (src == t.init and "i" or "r")

	-- Retransmission: same exchange, MID and direction as this side's last message, same bytes.
	local last = t.last[dir]
	if last and last.exch == exch and last.msgid == msgid and last.raw == raw then
		last.n = last.n + 1
		local o = last.res
		return { tunnel = o.tunnel, msg = o.msg, role = o.role, state = o.state, retrans = last.n }
	end

	local msg = "?"
	if exch == EXCH_MAIN and dir ~= "?" then
		if encrypted then msg = dir == "i" and "MM5" or "MM6"
		elseif pls[PL_SA] then msg = dir == "i" and "MM1" or "MM2"
		elseif pls[PL_KE] then msg = dir == "i" and "MM3" or "MM4" end
	elseif exch == EXCH_AGGR and dir ~= "?" then
		if pls[PL_SA] then msg = dir == "i" and "AM1" or "AM2"
		elseif dir == "i" then msg = "AM3" end
	elseif exch == EXCH_QUICK then
		-- Per message ID the first sender is the QM initiator (either peer).
		local q = t.qm[msgid]
		if not q then
			q = { first = src, n = 0 }
			t.qm[msgid] = q
		end
		local from_first = src == q.first
		if from_first then
			msg = q.n == 0 and "QM1" or "QM3"
		else
			msg = (q.n >= 2 and flags % 4 >= 2) and "QM4" or "QM2"
		end
		q.n = q.n + 1
	elseif exch == EXCH_INFO then msg = "INFO"
	elseif exch == EXCH_TXN then msg = "TXN" end

	local state = STATE_AFTER[msg]
	if msg == "MM6" or msg == "AM3" then
		t.state.i, t.state.r = state, state -- phase 1 is up for both peers once the last message is out
	elseif state then
		t.state[dir] = state
	else
		state = t.state[dir]
	end
	local res = { tunnel = t.index, msg = msg, role = dir == "i" and "initiator" or (dir == "r" and "responder" or nil),
		state = state, retrans = 0 }
	t.last[dir] = { exch = exch, msgid = msgid, raw = raw, res = res, n = 0 }
	return res
end

function p.dissector(tvb, pinfo, tree)
	local num = pinfo.number
	local snap = results[num]
	if snap == nil then
		-- State is computed once per frame, on the first dissection that has the fields
		-- (with -2 that is pass 2: Lua extractors see nothing on tshark's tree-less pass 1).
		local isakmp = x_isakmp()
		if not isakmp then return end
		snap = {}
		results[num] = snap
		if x_icmp() or x_icmpv6() then return end -- quoted by an ICMP error: not a message
		local protos = { x_isakmp() }
		local ispis, rspis, nexts = { x_ispi() }, { x_rspi() }, { x_next() }
		local exchs, flagss, msgids = { x_exch() }, { x_flags() }, { x_msgid() }
		local src, dst = tostring(pinfo.src), tostring(pinfo.dst)
		for i = 1, #ispis do
			if rspis[i] and exchs[i] and flagss[i] and msgids[i] and nexts[i] then
				snap[#snap + 1] = track(src, dst, tostring(ispis[i].value), tostring(rspis[i].value),
					nexts[i].value, exchs[i].value, flagss[i].value, msgids[i].value,
					protos[i].range:raw())
			end
		end
	end
	-- Every pass: tree and Info column from the snapshot.
	for _, r in ipairs(snap) do
		local st = r.state and (" " .. r.state) or ""
		if r.retrans > 0 then
			pinfo.cols.info:append(" [Retransmission " .. r.retrans .. ", " .. r.msg .. st .. "]")
		else
			pinfo.cols.info:append(" [" .. r.msg .. st .. "]")
		end
		local sub = tree:add(p):set_generated()
		sub:add(f_tunnel, r.tunnel):set_generated()
		sub:add(f_msg, r.msg):set_generated()
		if r.role then sub:add(f_role, r.role):set_generated() end
		if r.state then sub:add(f_state, r.state):set_generated() end
		if r.retrans > 0 then sub:add(f_retrans, r.retrans):set_generated() end
	end
end

register_postdissector(p)

// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title A Chainlink-style price feed for the showpos dev chain.
/// @notice Speaks AggregatorV3Interface (decimals, description, version,
/// getRoundData, latestRoundData) as Chainlink's feeds do, with the setters
/// of Chainlink's MockV3Aggregator (updateAnswer, updateRoundData) and one
/// more, setRoundData, that also sets startedAt and answeredInRound, so tests
/// can make every kind of round a terminal must refuse: a zero or negative
/// answer, a round older than the heartbeat, an incomplete (carried-over)
/// round, a round from the future. Anyone may call the setters: every key
/// of the dev chain is public anyway.
///
/// Only its runtime code is used: tools/devchain places it at fixed
/// addresses in the genesis block and presets its storage (decimals,
/// description and round 1), so it has no constructor. The storage layout is
/// part of that contract with the Go side (build.js checks it against
/// solc's storageLayout): decimals slot 0, description slot 1, latestRound
/// slot 2, then the per-round mappings answers 3, startedAt 4, updatedAt 5,
/// answeredInRound 6.
contract TestPriceFeed {
    /// MockV3Aggregator's version.
    uint256 public constant version = 0;

    uint8 public decimals;
    string public description;
    uint80 public latestRound;
    mapping(uint80 => int256) private _answers;
    mapping(uint80 => uint256) private _startedAt;
    mapping(uint80 => uint256) private _updatedAt;
    mapping(uint80 => uint80) private _answeredInRound;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    /// A new round, latestRound + 1, answering answer now (block.timestamp),
    /// complete (answeredInRound = its id), as a feed's transmission does.
    function updateAnswer(int256 answer) external {
        _set(latestRound + 1, answer, block.timestamp, block.timestamp, latestRound + 1);
    }

    /// MockV3Aggregator's setter: round roundId becomes the latest with
    /// answer, updatedAt and startedAt, complete (answeredInRound = roundId).
    function updateRoundData(uint80 roundId, int256 answer, uint256 updatedAt, uint256 startedAt) external {
        _set(roundId, answer, startedAt, updatedAt, roundId);
    }

    /// Every field of round roundId, which becomes the latest; an
    /// answeredInRound below roundId makes an incomplete round.
    function setRoundData(uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
        external
    {
        _set(roundId, answer, startedAt, updatedAt, answeredInRound);
    }

    /// Round roundId; reverts "No data present" for a round never set, as
    /// Chainlink's aggregators do.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        require(_updatedAt[roundId] != 0 || _answeredInRound[roundId] != 0, "No data present");
        return (roundId, _answers[roundId], _startedAt[roundId], _updatedAt[roundId], _answeredInRound[roundId]);
    }

    /// The latest round: all zeros before any round was set.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        roundId = latestRound;
        return (roundId, _answers[roundId], _startedAt[roundId], _updatedAt[roundId], _answeredInRound[roundId]);
    }

    /// AggregatorV2's latestAnswer, as MockV3Aggregator has it.
    function latestAnswer() external view returns (int256) {
        return _answers[latestRound];
    }

    /// AggregatorV2's latestTimestamp.
    function latestTimestamp() external view returns (uint256) {
        return _updatedAt[latestRound];
    }

    function _set(uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
        private
    {
        latestRound = roundId;
        _answers[roundId] = answer;
        _startedAt[roundId] = startedAt;
        _updatedAt[roundId] = updatedAt;
        _answeredInRound[roundId] = answeredInRound;
        emit NewRound(roundId, msg.sender, startedAt);
        emit AnswerUpdated(answer, roundId, updatedAt);
    }
}
